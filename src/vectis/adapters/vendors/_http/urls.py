"""Vendor URLs, parsed strictly: the base URLs operators set and the URLs vendors hand back.

A URL is refused, never repaired, when parsers could disagree about it: control characters,
spaces, backslashes or non-ASCII characters anywhere, credentials in it, a port that is not
1-65535, a host that is not a DNS name or an IP literal. A base URL must be https and resolve to
public addresses when saved (the connect-time check in ``guard`` repeats that on every
connection); a URL a vendor hands back must stay where the operator pointed the integration or
on the vendor's documented domain.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

from attrs import frozen

from vectis.adapters.vendors._http.addresses import Resolver, SystemResolver, first_refusal
from vectis.domain.errors import InvalidValue, VendorRejected

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNSAFE_CHARACTER = re.compile(r"[^\x21-\x7e]|\\")
_NETLOC = re.compile(r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9.-]+))(?::(?P<port>.*))?")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_PORT = re.compile(r"[1-9][0-9]{0,4}")


@frozen(kw_only=True)
class VendorUrl:
    """A URL that passed ``parse_url``; ``host`` is lower-case, without IPv6 brackets."""

    scheme: str
    host: str
    port: int
    netloc: str
    path: str
    query: str

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)


def parse_url(url: str) -> VendorUrl:
    """Split an http(s) URL strictly; ``InvalidValue`` says what is wrong with it."""
    unsafe = _UNSAFE_CHARACTER.search(url)
    if unsafe:
        raise InvalidValue(f"the vendor URL must not contain {unsafe.group()!r}")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InvalidValue(f"{url!r} is not a well-formed URL") from None
    if parts.scheme not in _DEFAULT_PORTS:
        raise InvalidValue(f"the vendor URL must use https, not {parts.scheme or 'nothing'}")
    if "@" in parts.netloc:
        raise InvalidValue("put credentials in the credential fields, not in the URL")
    if "#" in url:
        raise InvalidValue("the vendor URL must not carry a fragment")
    host, port = _host_and_port(parts.netloc, url)
    return VendorUrl(
        scheme=parts.scheme,
        host=host,
        port=port or _DEFAULT_PORTS[parts.scheme],
        netloc=parts.netloc,
        path=parts.path,
        query=parts.query,
    )


def vendor_url(
    url: str, *, vendor: str, what: str, origins: Sequence[str] = (), domain: str | None = None
) -> VendorUrl:
    """A URL the vendor handed back, held to where it may point, before it is called.

    It must be well formed and either on the same scheme, host and port as one of
    ``origins`` (URLs the operator configured, or the request that produced it), or https on
    the default port of a host under ``domain``. ``VendorRejected`` otherwise, so it never
    receives credentials.
    """
    try:
        parsed = parse_url(url)
    except InvalidValue as error:
        raise VendorRejected(f"{vendor}'s {what} is malformed: {error}") from None
    same_origin = any(parsed.origin == _origin_of(origin) for origin in origins)
    on_domain = (
        domain is not None
        and (parsed.scheme, parsed.port) == ("https", 443)
        and parsed.host.endswith("." + domain.lower())
    )
    if not (same_origin or on_domain):
        raise VendorRejected(
            f"{vendor}'s {what} points at {parsed.scheme}://{parsed.netloc}, "
            "which is not a host of this integration"
        )
    return parsed


class VendorUrlPolicy:
    """The save-time check of a base URL an operator sets."""

    def __init__(self, *, allow_private: bool = False, resolver: Resolver | None = None) -> None:
        self._allow_private = allow_private
        self._resolver = resolver or SystemResolver()

    async def check_base_url(self, url: str) -> str:
        """Return the URL normalised (no trailing slash), or refuse it with the reason."""
        parsed = parse_url(url.strip(" "))
        if parsed.scheme != "https" and not self._allow_private:
            raise InvalidValue(f"the vendor URL must use https, not {parsed.scheme}")
        if parsed.query:
            raise InvalidValue("the vendor URL must not carry a query")
        await self._check_addresses(parsed)
        return urlunsplit((parsed.scheme, parsed.netloc, parsed.path.rstrip("/"), "", ""))

    async def _check_addresses(self, url: VendorUrl) -> None:
        try:
            addresses = await self._resolver.resolve(url.host, url.port)
        except OSError as error:
            if self._allow_private:
                return  # the sandbox may name hosts that do not resolve; connecting checks again
            reason = getattr(error, "strerror", None) or str(error)
            raise InvalidValue(f"cannot resolve {url.host}: {reason}") from None
        refusal = first_refusal(url.host, addresses, allow_private=self._allow_private)
        if refusal is not None:
            raise InvalidValue(refusal)


def _host_and_port(netloc: str, url: str) -> tuple[str, int | None]:
    if not netloc:
        raise InvalidValue(f"{url!r} names no host")
    match = _NETLOC.fullmatch(netloc)
    if match is None:
        raise InvalidValue(f"{netloc!r} is not a host name or IP address")
    port = match.group("port")
    if port is not None and not (_PORT.fullmatch(port) and int(port) <= 65535):
        raise InvalidValue(f"the port must be a number from 1 to 65535, not {port!r}")
    if match.group("ipv6") is not None:
        try:
            host = str(ipaddress.IPv6Address(match.group("ipv6")))
        except ValueError:
            raise InvalidValue(f"{netloc!r} is not a host name or IP address") from None
    else:
        host = match.group("name").lower()
        if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in host.split(".")):
            raise InvalidValue(f"{host!r} is not a host name or IP address")
    return host, int(port) if port is not None else None


def _origin_of(url: str) -> tuple[str, str, int] | None:
    try:
        return parse_url(url).origin
    except InvalidValue:
        return None
