"""The sandboxed Autotask's HTTP surface: auth, queries with ``nextPageUrl`` paging, entity
reads, ticket and note writes, and ``TicketWebhooks`` registration, as Falcon resources."""

from __future__ import annotations

import hmac
import itertools
import json
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import falcon.asgi

from vectis_sandbox import autotask_records as records
from vectis_sandbox.autotask_records import API_RESOURCE_ID, WEBHOOK_FIELDS
from vectis_sandbox.autotask_tables import FilterError, Row, compile_filter
from vectis_sandbox.kit.errors import VendorError
from vectis_sandbox.kit.paging import page_url
from vectis_sandbox.kit.resources import json_body

if TYPE_CHECKING:
    from vectis_sandbox.autotask import AutotaskState

ROOT = "/atservicesrest"
API = f"{ROOT}/v1.0"
MAX_RECORDS = 500
UNAUTHORIZED = {
    "errors": ["Authentication failed: the UserName, Secret or ApiIntegrationCode is not valid."]
}


def install(app: falcon.asgi.App[Any, Any], state: AutotaskState) -> None:
    """Add the Autotask routes and auth to ``app``."""
    app.add_middleware(_Auth(state))
    app.add_route(f"{API}/{{entity}}", _Entities(state))
    app.add_route(f"{API}/{{entity}}/{{segment}}", _Entity(state))
    app.add_route(f"{API}/{{entity}}/{{segment}}/{{child}}", _Child(state))


def autotask_error(status: int, message: str) -> VendorError:
    """An error as Autotask answers it: a status and ``{"errors": [...]}``."""
    return VendorError(status, {"errors": [message]})


class _Auth:
    def __init__(self, state: AutotaskState) -> None:
        self._state = state

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        if req.path.lower() == f"{API}/zoneinformation".lower():
            return  # zone discovery needs no credentials
        state = self._state
        presented = (
            req.get_header("UserName"),
            req.get_header("Secret"),
            req.get_header("ApiIntegrationCode"),
        )
        expected = (state.username, state.secret, state.integration_code)
        if not all(
            value is not None and hmac.compare_digest(value, wanted)
            for value, wanted in zip(presented, expected, strict=True)
        ):
            raise autotask_error(401, UNAUTHORIZED["errors"][0])


class _Entities:
    """``/{Entity}``: zone discovery, and ``POST``/``PATCH`` of tickets and ticket webhooks."""

    def __init__(self, state: AutotaskState) -> None:
        self._state = state

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, entity: str
    ) -> None:
        if entity.lower() != "zoneinformation":
            raise autotask_error(405, f"GET {entity} is not supported; query it instead")
        server = urlsplit(self._state.base_url)
        resp.media = {
            "zoneName": "Sandbox",
            "url": self._state.base_url + "/",
            "webUrl": f"{server.scheme}://{server.netloc}/",
            "ci": 0,
        }

    async def on_post(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, entity: str
    ) -> None:
        body = await _body(req)
        if entity.lower() == "tickets":
            resp.media = {"itemId": self._state.add_ticket(body)["id"]}
        elif entity.lower() == "ticketwebhooks":
            resp.media = {"itemId": _create_webhook(self._state, body)["id"]}
        else:
            raise autotask_error(405, f"Creating {entity} is not supported by the sandbox")

    async def on_patch(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, entity: str
    ) -> None:
        body = await _body(req)
        if entity.lower() == "tickets":
            resp.media = {"itemId": self._state.update_ticket(body)["id"]}
        elif entity.lower() == "ticketwebhooks":
            resp.media = {"itemId": _update_webhook(self._state, body)["id"]}
        else:
            raise autotask_error(405, f"Updating {entity} is not supported by the sandbox")


class _Entity:
    """``/{Entity}/query`` (POST, or GET with ``search``) and ``/{Entity}/{id}``."""

    def __init__(self, state: AutotaskState) -> None:
        self._state = state

    async def on_post(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, entity: str, segment: str
    ) -> None:
        if segment.lower() != "query":
            raise autotask_error(405, f"POST {entity}/{segment} is not supported")
        resp.media = _query(self._state, entity, await _body(req), after=-1)

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, entity: str, segment: str
    ) -> None:
        if segment.lower() == "query":
            resp.media = _query(self._state, entity, _json_param(req, "search"), after=-1)
            return
        if not is_int(segment):
            raise autotask_error(404, f"{entity}/{segment} is not a resource")
        resp.media = {"item": self._state.table(entity).get(int(segment))}


class _Child:
    """``query/next``, ``entityInformation/fields`` and the child collections ``{id}/Notes``,
    ``{id}/Fields``."""

    def __init__(self, state: AutotaskState) -> None:
        self._state = state

    async def on_get(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        entity: str,
        segment: str,
        child: str,
    ) -> None:
        where = (segment.lower(), child.lower())
        if where == ("query", "next"):
            paging = _json_param(req, "paging")
            search = _json_param(req, "search")
            resp.media = _query(
                self._state,
                entity,
                {**search, "MaxRecords": paging.get("MaxRecords")},
                after=int(paging.get("after", -1)),
            )
        elif where == ("entityinformation", "fields"):
            resp.media = _FIELD_INFO.get(entity.lower(), lambda: {"fields": []})()
        elif is_int(segment) and (entity.lower(), child.lower()) in _CHILDREN:
            table, parent = _CHILDREN[(entity.lower(), child.lower())]
            resp.media = _query(
                self._state,
                table,
                {"filter": [{"op": "eq", "field": parent, "value": int(segment)}]},
                after=-1,
            )
        else:
            raise autotask_error(404, f"{entity}/{segment}/{child} is not a resource")

    async def on_post(
        self,
        req: falcon.asgi.Request,
        resp: falcon.asgi.Response,
        entity: str,
        segment: str,
        child: str,
    ) -> None:
        body = await _body(req)
        where = (entity.lower(), child.lower())
        if where == ("tickets", "notes") and is_int(segment):
            resp.media = {"itemId": self._state.add_note(int(segment), body)["id"]}
        elif where == ("ticketwebhooks", "fields") and is_int(segment):
            resp.media = {"itemId": _add_webhook_field(self._state, int(segment), body)["id"]}
        else:
            raise autotask_error(405, f"POST {entity}/{segment}/{child} is not supported")


_FIELD_INFO = {
    "tickets": records.ticket_fields,
    "ticketwebhookfields": records.webhook_fields,
}
_CHILDREN = {
    ("tickets", "notes"): ("TicketNotes", "ticketID"),
    ("ticketwebhooks", "fields"): ("TicketWebhookFields", "webhookID"),
}


def _query(state: AutotaskState, entity: str, body: Any, *, after: int) -> Row:
    if not isinstance(body, dict):
        raise autotask_error(500, "The query body must be a JSON object")
    table = state.table(entity)
    size = body.get("MaxRecords") or MAX_RECORDS
    if not is_int(size) or not 1 <= int(size) <= MAX_RECORDS:
        raise autotask_error(500, f"MaxRecords must be between 1 and {MAX_RECORDS}")
    size = int(size)
    try:
        predicate, hints = compile_filter(body.get("filter"))
    except FilterError as error:
        raise autotask_error(500, str(error)) from None
    include = body.get("IncludeFields") or body.get("includeFields") or []
    if not isinstance(include, list):
        raise autotask_error(500, "IncludeFields must be a list of field names")
    found = list(itertools.islice(table.scan(predicate, after, hints), size + 1))
    items = found[:size]
    next_url = None
    if len(found) > size:
        search = {"filter": body["filter"], **({"IncludeFields": include} if include else {})}
        next_url = page_url(
            f"{state.base_url}/v1.0/{entity}/query/next",
            {
                "paging": json.dumps({"after": items[-1]["id"], "MaxRecords": size}),
                "search": json.dumps(search),
            },
        )
    if include:
        # IncludeFields returns only the fields named (REST_Advanced_Query_Features). Whether
        # Autotask adds ``id`` unasked is UNCONFIRMED: the sandbox returns only what is named.
        wanted = {str(name).lower() for name in include}
        items = [{k: v for k, v in item.items() if k.lower() in wanted} for item in items]
    return {
        "items": items,
        "pageDetails": {
            "count": len(items),
            "requestCount": size,
            "prevPageUrl": None,
            "nextPageUrl": next_url,
        },
    }


def _create_webhook(state: AutotaskState, body: Row) -> Row:
    values = canonical(body, _WEBHOOK_WRITABLE)
    url, key = values.get("webhookUrl"), values.get("secretKey")
    deactivation = values.get("deactivationUrl")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise autotask_error(500, "WebhookUrl must be an http(s) URL")
    # Autotask requires a deactivation URL beside the webhook URL (Webhooks_Creating); that it
    # refuses the two being equal is UNCONFIRMED, and the sandbox does the stricter thing.
    if not isinstance(deactivation, str) or not deactivation.startswith(("http://", "https://")):
        raise autotask_error(500, "DeactivationUrl must be an http(s) URL")
    if deactivation == url:
        raise autotask_error(500, "DeactivationUrl must differ from WebhookUrl")
    if not isinstance(key, str) or not key or len(key) > 64:
        raise autotask_error(500, "SecretKey is required and at most 64 characters")
    webhook: Row = {
        "id": state.new_id(),
        "name": values.get("name") or "Webhook",
        "webhookUrl": url,
        "deactivationUrl": deactivation,
        "isActive": bool(values.get("isActive", True)),
        "isSubscribedToCreateEvents": bool(values.get("isSubscribedToCreateEvents")),
        "isSubscribedToUpdateEvents": bool(values.get("isSubscribedToUpdateEvents")),
        "isSubscribedToDeleteEvents": bool(values.get("isSubscribedToDeleteEvents")),
        "sendThresholdExceededNotification": bool(values.get("sendThresholdExceededNotification")),
        "notificationEmailAddress": values.get("notificationEmailAddress"),
        "webhookGUID": str(uuid.uuid4()),
        "isReady": True,
        "ownerResourceID": API_RESOURCE_ID,
    }
    state.table("TicketWebhooks").put(webhook)
    state.webhook_secrets[webhook["id"]] = key
    return webhook


def _update_webhook(state: AutotaskState, body: Row) -> Row:
    values = canonical(body, ("id", *_WEBHOOK_WRITABLE))
    current = (
        state.table("TicketWebhooks").get(int(values["id"])) if is_int(values.get("id")) else None
    )
    if current is None:
        raise autotask_error(500, f"TicketWebhook {values.get('id')} does not exist")
    key = values.pop("secretKey", None)
    if key is not None:
        if not isinstance(key, str) or not key or len(key) > 64:
            raise autotask_error(500, "SecretKey must be at most 64 characters")
        state.webhook_secrets[int(current["id"])] = key
    webhook = {**current, **values}
    state.table("TicketWebhooks").put(webhook)
    return webhook


def _add_webhook_field(state: AutotaskState, webhook_id: int, body: Row) -> Row:
    if state.table("TicketWebhooks").get(webhook_id) is None:
        raise autotask_error(404, f"TicketWebhook {webhook_id} does not exist")
    values = canonical(body, ("fieldID", "isSubscribedField", "isDisplayAlwaysField"))
    if not is_int(values.get("fieldID")) or int(values["fieldID"]) not in WEBHOOK_FIELDS:
        raise autotask_error(500, f"FieldID {values.get('fieldID')} is not a ticket webhook field")
    row = {
        "id": state.new_id(),
        "webhookID": webhook_id,
        "fieldID": int(values["fieldID"]),
        "isSubscribedField": bool(values.get("isSubscribedField")),
        "isDisplayAlwaysField": bool(values.get("isDisplayAlwaysField")),
    }
    state.table("TicketWebhookFields").put(row)
    return row


_WEBHOOK_WRITABLE = (
    "name",
    "webhookUrl",
    "deactivationUrl",
    "secretKey",
    "isActive",
    "isSubscribedToCreateEvents",
    "isSubscribedToUpdateEvents",
    "isSubscribedToDeleteEvents",
    "sendThresholdExceededNotification",
    "notificationEmailAddress",
)


def canonical(values: Row, names: tuple[str, ...]) -> Row:
    """The body's keys spelt as Autotask's fields are (its JSON keys are case-insensitive)."""
    spelling = {name.lower(): name for name in names}
    return {spelling.get(str(key).lower(), key): value for key, value in values.items()}


def check_picklist(values: Row, name: str, choices: dict[int, str], *, required: bool) -> None:
    if name not in values or values[name] is None:
        if required:
            raise autotask_error(500, f"{name} is required")
        return
    if not is_int(values[name]) or int(values[name]) not in choices:
        raise autotask_error(500, f"{values[name]!r} is not a value of the {name} picklist")
    values[name] = int(values[name])


async def _body(req: falcon.asgi.Request) -> Row:
    return await json_body(req, dict, lambda reason: autotask_error(500, reason))


def _json_param(req: falcon.asgi.Request, name: str) -> Row:
    raw = req.get_param(name)
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise autotask_error(500, f"The {name} parameter must be a JSON object")
    return value


def as_int(value: Any) -> int | None:
    return int(value) if is_int(value) else None


def is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        int(value)
    except (TypeError, ValueError):
        return False
    return True
