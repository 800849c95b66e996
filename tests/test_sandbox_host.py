"""One set of sandbox servers for a whole run: each seeding is as fresh as a new sandbox."""

from __future__ import annotations

import asyncio
import base64

import httpx

from vectis_sandbox.connectwise import ConnectWiseState
from vectis_sandbox.server import SandboxHost
from vectis_sandbox.world import build_world


def _auth(state: ConnectWiseState) -> dict[str, str]:
    user = f"{state.company_id}+{state.public_key}:{state.private_key}"
    return {
        "Authorization": "Basic " + base64.b64encode(user.encode()).decode(),
        "clientId": state.client_id,
    }


async def test_a_new_seeding_forgets_what_the_last_one_was_told(
    sandbox_servers: SandboxHost,
) -> None:
    world = build_world(tickets_per_company=2)
    with sandbox_servers.seeded(world) as first:
        psa = first.connectwise
        async with httpx.AsyncClient() as client:
            registered = await client.post(
                f"{psa.base_url}/apis/3.0/system/callbacks",
                json={"url": "http://127.0.0.1:9/", "type": "ticket", "level": "owner"},
                headers=_auth(psa),
            )
        assert registered.status_code in (200, 201), registered.text
        assert psa.callbacks
        pending = asyncio.get_running_loop().create_task(asyncio.sleep(60))
        psa.deliveries.append(pending)
        old_auth = _auth(psa)

    await asyncio.sleep(0)
    assert pending.cancelled(), "a delivery still under way does not outlive its sandbox"

    with sandbox_servers.seeded(world, vendors=("connectwise",)) as second:
        fresh = second.connectwise
        assert fresh is not psa
        assert fresh.base_url == psa.base_url, "the same server"
        assert not fresh.callbacks
        assert [account.vendor for account in second.accounts] == ["connectwise"]
        async with httpx.AsyncClient() as client:
            listed = await client.get(
                f"{fresh.base_url}/apis/3.0/system/callbacks", headers=_auth(fresh)
            )
            stale = await client.get(
                f"{fresh.base_url}/apis/3.0/system/callbacks", headers=old_auth
            )
            left_out = await client.get(first.state("halopsa").base_url + "/api/Tickets")
        assert (listed.status_code, listed.json()) == (200, [])
        assert stale.status_code == 401, "the last seeding's credentials are gone"
        assert left_out.status_code == 404, "a vendor not seeded this time serves nothing"
