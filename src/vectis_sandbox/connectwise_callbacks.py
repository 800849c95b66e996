"""ConnectWise callback deliveries from the sandbox: signed the way ConnectWise signs them.

A delivery is what ConnectWise posts: ``Entity`` is the ticket as a JSON string, and
``x-content-signature`` is base64(HMAC-SHA256(SHA-256(signing key), body)); the signing key
is served at ``Metadata.key_url`` (by the app) to whoever presents the clientId.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid

from vectis_sandbox.connectwise_state import ConnectWiseState, Document
from vectis_sandbox.kit.webhooks import deliver_later


def deliver(
    state: ConnectWiseState, action: str, ticket: Document, *, by_api: bool = False
) -> None:
    """Push a ticket change to every active callback, in the background.

    A change the API member made itself skips callbacks registered with
    ``isSelfSuppressedFlag``, as ConnectWise does.
    """
    for callback in state.callbacks.values():
        if callback["inactiveFlag"] or (by_api and callback["isSelfSuppressedFlag"]):
            continue
        body = callback_body(state, callback, action, ticket)
        headers = {
            "Content-Type": "application/json",
            "x-content-signature": sign(state, callback, body),
        }
        deliver_later(state, callback["url"], body, headers)


def callback_body(
    state: ConnectWiseState, callback: Document, action: str, ticket: Document
) -> bytes:
    document = {
        "MessageId": str(uuid.uuid4()),
        "FromUrl": state.base_url.split("//", 1)[-1].split("/", 1)[0],
        "CompanyId": state.company_id,
        "MemberId": "portal",
        "Action": action,
        "Type": "ticket",
        "ID": ticket["id"],
        "ProductInstanceId": "sandbox",
        "PartnerId": "sandbox",
        "Entity": json.dumps(ticket),
        "Metadata": {
            "key_url": f"{state.base_url}/system/callbackkey/index.rails"
            f"?companyName={state.company_id}&id={callback['connectWiseID']}"
        },
        "CallbackObjectRecId": callback["id"],
    }
    return json.dumps(document).encode()


def sign(state: ConnectWiseState, callback: Document, body: bytes) -> str:
    key = hashlib.sha256(state.signing_keys[callback["connectWiseID"]].encode()).digest()
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
