"""Record mode writes recordings that replay can serve, and never writes a credential."""

from __future__ import annotations

import httpx

from contract_tests.conftest import REDACTED, interaction
from contract_tests.replay import Replay


def test_a_recorded_interaction_replays_and_holds_no_secret() -> None:
    outgoing = httpx.Request(
        "POST",
        "https://eu.example.test/ws/oauth/token?tenant=harbor",
        data={"grant_type": "client_credentials", "client_id": "app", "client_secret": "s3cr3t"},
        headers={"Authorization": "Basic c2VjcmV0"},
    )
    answer = httpx.Response(200, json={"access_token": "eyJ…", "expires_in": 3600})

    recorded = interaction(outgoing, answer)

    assert "s3cr3t" not in str(recorded) and "eyJ" not in str(recorded)
    assert recorded["request"]["form"]["client_secret"] == REDACTED
    assert recorded["response"]["json"] == {"access_token": REDACTED, "expires_in": 3600}
    del recorded["request"]["form"]  # replay checks the body only when a recording gives one
    served = Replay([recorded])(outgoing)
    assert served.status_code == 200 and served.json()["expires_in"] == 3600
