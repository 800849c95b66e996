"""Autotask webhook callouts: verify ``X-Hook-Signature`` and turn ticket changes into events.

Autotask signs each callout with the webhook's ``SecretKey``:
``X-Hook-Signature: sha1=<base64(HMAC-SHA1(SecretKey, body))>``. UNCONFIRMED: whether the body
it hashes is byte-for-byte the body it sends; implementers report JSON escaping differences
(``\\/``, ``\\uXXXX``). The ``webhook_signature_bodies`` setting therefore lists the forms tried:
``raw`` (the bytes received), ``compact`` (re-serialised without spaces), ``ascii`` (compact with
non-ASCII escaped) and ``slashes`` (``ascii`` with ``/`` escaped). Every form is still keyed
with the secret, so trying several does not weaken the check. Deliveries whose ``EventTime``
is more than ``webhook_max_age_seconds`` (default 900) before their arrival, or more than a few
minutes after it, are refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import cattrs

from vectis.adapters.vendors._webhooks import check_fresh, header, read_json, same_secret
from vectis.adapters.vendors.autotask import mapping, wire
from vectis.adapters.vendors.autotask.client import AutotaskSettings
from vectis.adapters.vendors.autotask.gateway import webhook_key
from vectis.application.errors import WebhookRejected
from vectis.domain.errors import InvalidValue
from vectis.domain.events import InboundEvent

SIGNATURE_HEADER = "x-hook-signature"
SIGNATURE_PREFIX = "sha1="
_FIELDS = {name.lower(): name for name in ("Action", "EntityType", "Id", "EventTime", "Guid")}
_FIELDS.update({"fields": "Fields", "sequencenumber": "SequenceNumber", "personid": "PersonID"})


class AutotaskWebhooks:
    """Verifies and parses callouts for one integration."""

    def __init__(self, secret: str, settings: AutotaskSettings | None = None) -> None:
        self._key = webhook_key(secret).encode()
        self._settings = settings or AutotaskSettings()

    async def parse(
        self, headers: Mapping[str, str], body: bytes, received_at: datetime
    ) -> list[InboundEvent]:
        signature = header(headers, SIGNATURE_HEADER)
        if not signature:
            raise WebhookRejected(f"the callout carries no {SIGNATURE_HEADER} header")
        document = read_json(body, "the callout body")
        if not self._signed(signature, body, document):
            raise WebhookRejected("the callout signature does not match")
        try:
            delivery = wire.structure(_pascal(document), wire.WebhookDelivery)
            occurred = mapping.parse_time(delivery.EventTime)
            if occurred is None:
                raise InvalidValue("the callout has no EventTime")
            events = mapping.webhook_events(delivery, self._settings.closed_status_ids)
        except (cattrs.BaseValidationError, TypeError, ValueError, InvalidValue) as error:
            raise WebhookRejected(
                f"the callout is not an Autotask webhook payload: {error}", malformed=True
            ) from error
        check_fresh(
            occurred,
            received_at,
            max_age=timedelta(seconds=self._settings.webhook_max_age_seconds),
            what="the callout",
        )
        return events

    def _signed(self, signature: str, body: bytes, document: Any) -> bool:
        presented = signature.strip()
        if presented.lower().startswith(SIGNATURE_PREFIX):
            presented = presented[len(SIGNATURE_PREFIX) :]
        for candidate in _bodies(self._settings.webhook_signature_bodies, body, document):
            digest = hmac.new(self._key, candidate, hashlib.sha1).digest()
            if same_secret(presented, base64.b64encode(digest)):
                return True
        return False


def _bodies(kinds: tuple[str, ...], body: bytes, document: Any) -> Iterator[bytes]:
    forms: dict[str, Callable[[], bytes]] = {
        "raw": lambda: body,
        "compact": lambda: _dumps(document, ascii_only=False),
        "ascii": lambda: _dumps(document, ascii_only=True),
        "slashes": lambda: _dumps(document, ascii_only=True).replace(b"/", b"\\/"),
    }
    for kind in kinds:
        if kind in forms:
            yield forms[kind]()


def _dumps(document: Any, *, ascii_only: bool) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=ascii_only).encode()


def _pascal(document: Any) -> Any:
    """The payload's top-level keys as the wire class spells them (Autotask's case varies)."""
    if not isinstance(document, dict):
        return document
    return {_FIELDS.get(str(key).lower(), key): value for key, value in document.items()}
