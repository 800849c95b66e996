"""The ConnectWise account (where and as whom to call) and the integration's choices."""

from __future__ import annotations

import base64
from urllib.parse import quote, urlsplit, urlunsplit

from attrs import field, frozen

from vectis.adapters.vendors._entry import Link
from vectis.adapters.vendors._kit.settings import credentials, read_settings, within

API_ROOT = "/apis/3.0"
ACCEPT = "application/vnd.connectwise.com+json; version=2022.1"
MAX_PAGE_SIZE = 1000
TICKET_URL_TEMPLATE = (
    "{console}/services/system_io/Service/fv_sr100_request.rails"
    "?service_recid={id}&companyName={company}"
)


@frozen(kw_only=True)
class ConnectWiseAccount:
    """Where and as whom to call: ``base_url`` is ``https://{host}/{codebase}``."""

    base_url: str
    company_id: str
    public_key: str
    private_key: str = field(repr=False)
    client_id: str

    @classmethod
    def of(cls, link: Link) -> ConnectWiseAccount:
        return cls(
            base_url=link.integration.base_url.rstrip("/"),
            **credentials(
                link, "ConnectWise", "company_id", "public_key", "private_key", "client_id"
            ),
        )

    @property
    def api_url(self) -> str:
        return self.base_url + API_ROOT

    @property
    def console_url(self) -> str:
        """The web console people open: the API host without its ``api-`` prefix."""
        parts = urlsplit(self.base_url)
        host = parts.netloc.removeprefix("api-")
        return urlunsplit((parts.scheme, host, parts.path, "", ""))

    def headers(self) -> dict[str, str]:
        user = f"{self.company_id}+{self.public_key}:{self.private_key}"
        return {
            "Authorization": "Basic " + base64.b64encode(user.encode()).decode(),
            "clientId": self.client_id,
            "Accept": ACCEPT,
        }


@frozen(kw_only=True)
class ConnectWiseOptions:
    """Integration settings (``integration.setting``) that tune the connector."""

    page_size: int = field(default=MAX_PAGE_SIZE, metadata=within(1, MAX_PAGE_SIZE))
    ticket_url_template: str = TICKET_URL_TEMPLATE
    """UNCONFIRMED as a documented link: the console's ticket page that integrations commonly
    open. ``{console}``, ``{id}`` and ``{company}`` are filled in; empty disables links."""
    console_url: str | None = None
    """The console's base URL when it is not the API host without ``api-`` (UNCONFIRMED for
    every region: on-premise servers and e.g. ``aus.myconnectwise.net`` need this set)."""
    default_board_id: str | None = None
    """The board new tickets go to when the draft names none (ConnectWise requires one)."""
    note_dedupe_minutes: int = 24 * 60
    """How far back ``add_note`` looks for the same note from a crashed attempt; 0 turns the
    look-up (one extra request per note) off."""
    sync_sites: bool = True
    """Sites cost one request per changed company; turn off for very large books."""

    @classmethod
    def of(cls, link: Link) -> ConnectWiseOptions:
        return read_settings(cls, link, vendor="ConnectWise")

    def ticket_url(self, account: ConnectWiseAccount, ticket_id: int | str) -> str:
        if not self.ticket_url_template:
            return ""
        try:
            return self.ticket_url_template.format(
                console=(self.console_url or account.console_url).rstrip("/"),
                id=ticket_id,
                company=quote(account.company_id, safe=""),
            )
        except (KeyError, IndexError, ValueError):
            return ""  # a template naming other placeholders: no link rather than no ticket
