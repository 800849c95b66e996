"""Server-side request forgery checks for vendor base URLs an operator can set.

A base URL must be https and every address its host resolves to must be public: no private,
loopback, link-local, multicast or reserved ranges (cloud metadata endpoints live there).
The demo and the tests, whose vendor sandbox is on loopback, allow private addresses.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

from vectis.domain.errors import InvalidValue


class VendorUrlPolicy:
    def __init__(self, *, allow_private: bool = False) -> None:
        self._allow_private = allow_private

    async def check_base_url(self, url: str) -> str:
        """Return the URL normalised (no trailing slash), or refuse it with the reason."""
        parts = urlsplit(url.strip())
        allowed_schemes = ("https", "http") if self._allow_private else ("https",)
        if parts.scheme not in allowed_schemes:
            raise InvalidValue(f"the vendor URL must use https, not {parts.scheme or 'nothing'}")
        if not parts.hostname:
            raise InvalidValue(f"{url!r} names no host")
        if parts.username or parts.password:
            raise InvalidValue("put credentials in the credential fields, not in the URL")
        if parts.query or parts.fragment:
            raise InvalidValue("the vendor URL must not carry a query or fragment")
        if not self._allow_private:
            for address in await _resolve(parts.hostname, parts.port or 443):
                if not _is_public(address):
                    raise InvalidValue(
                        f"{parts.hostname} resolves to {address}, which is not a public address"
                    )
        return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


async def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise InvalidValue(f"cannot resolve {host}: {error.strerror}") from None
    return sorted({str(info[4][0]) for info in infos})


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast
