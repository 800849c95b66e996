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
from urllib.parse import urlencode, urlsplit, urlunsplit

from vectis.adapters.vendors._kit.records import UNREADABLE
from vectis.adapters.vendors._webhooks import check_fresh, header, read_json, same_secret
from vectis.adapters.vendors.autotask import mapping, wire
from vectis.adapters.vendors.autotask.client import AutotaskClient
from vectis.adapters.vendors.autotask.settings import AutotaskSettings
from vectis.application.errors import WebhookRejected
from vectis.domain.errors import InvalidValue, VendorRejected
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
        except UNREADABLE as error:
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


class AutotaskWebhookSubscriptions:
    """``WebhookSubscriptions`` on Autotask: one ``TicketWebhooks`` entry per receiver URL.

    Its ``SecretKey`` is the integration's webhook secret (cut to Autotask's 64 characters, as
    the parser cuts it); re-registering re-asserts the key and adds any missing field. Field
    ids are the tenant's own: named in the ``webhook_field_ids`` setting, or read from the
    account's ``TicketWebhookFields`` field metadata.
    """

    def __init__(self, client: AutotaskClient, settings: AutotaskSettings, secret: str) -> None:
        self._client = client
        self._settings = settings
        self._secret = webhook_key(secret)

    async def ensure_subscribed(self, receiver_url: str) -> str:
        wanted = await self._wanted_fields()
        found = await self._client.first(
            "TicketWebhooks", [_eq("webhookUrl", receiver_url)], wire.names(wire.TicketWebhook)
        )
        if found is not None:
            webhook_id = _read(found, wire.TicketWebhook).id
            await self._client.update(
                "TicketWebhooks", mapping.webhook_reactivation(webhook_id, self._secret)
            )
            present = await self._field_ids(webhook_id)
        else:
            body = mapping.new_webhook(
                url=receiver_url,
                deactivation_url=self._settings.webhook_deactivation_url
                or deactivation_url(receiver_url),
                secret=self._secret,
                notify=self._settings.webhook_notification_email,
            )
            webhook_id = int(await self._client.create("TicketWebhooks", body))
            present = set()
        for field_id, subscribed in wanted:
            if field_id not in present:
                await self._client.create(
                    f"TicketWebhooks/{webhook_id}/Fields",
                    mapping.webhook_field(field_id, subscribed=subscribed),
                )
        return str(webhook_id)

    async def _wanted_fields(self) -> list[tuple[int, bool]]:
        settings = self._settings
        ids = {name.lower(): value for name, value in settings.webhook_field_ids.items()}
        names = [*settings.webhook_fields, *settings.webhook_display_fields]
        optional = list(settings.webhook_keying_fields)
        if any(name.lower() not in ids for name in [*names, *optional]):
            document = await self._client.get("TicketWebhookFields/entityInformation/fields")
            info = _read(document, wire.FieldList).fields
            ids = {**mapping.webhook_field_ids(info), **ids}
        missing = [name for name in names if name.lower() not in ids]
        if missing:
            raise VendorRejected(
                "Autotask's webhook field metadata names no id for "
                f"{', '.join(missing)}: set them in the integration's webhook_field_ids "
                "setting (field name → the tenant's webhook field id)"
            )
        names += [name for name in optional if name.lower() in ids]
        subscribed = {name.lower() for name in settings.webhook_fields}
        return [(ids[name.lower()], name.lower() in subscribed) for name in names]

    async def _field_ids(self, webhook_id: int) -> set[int]:
        document = await self._client.get(f"TicketWebhooks/{webhook_id}/Fields")
        items = document.get("items") if isinstance(document, dict) else None
        if not isinstance(items, list):
            raise VendorRejected("Autotask listed a webhook's fields without items")
        return {_read(item, wire.WebhookField).fieldID for item in items}


def webhook_key(secret: str) -> str:
    """The ``SecretKey`` Autotask signs with: the webhook secret, at most 64 characters."""
    return secret[:64]


def deactivation_url(receiver_url: str) -> str:
    """The receiver URL with ``deactivated=1``: Autotask needs a deactivation URL of its own.
    Its call is unsigned, so the receiver refuses it, and the next ``ensure_subscribed``
    re-activates the webhook."""
    parts = urlsplit(receiver_url)
    query = "&".join(part for part in (parts.query, urlencode({"deactivated": 1})) if part)
    return urlunsplit(parts._replace(query=query))


def _read(item: Any, kind: type[wire.T]) -> wire.T:
    try:
        return wire.structure(item, kind)
    except UNREADABLE as error:
        raise VendorRejected(
            f"Autotask answered with a record Vectis cannot read: {error}"
        ) from None


def _eq(field: str, value: Any) -> dict[str, Any]:
    return {"op": "eq", "field": field, "value": value}


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
