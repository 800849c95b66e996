"""Which addresses a vendor host has, and which of them Vectis may connect to (SSRF).

One check serves both the save-time check of a base URL and the connect-time check of every
connection. An IPv6 address that carries an IPv4 address (IPv4-mapped, IPv4-translated,
IPv4-compatible, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``) is judged by that IPv4 address;
Teredo (``2001::/32``) is refused outright, since its relays decide where packets really go.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from typing import Protocol

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Resolver(Protocol):
    """Looks a host name up; tests substitute answers (DNS rebinding included)."""

    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses ``host`` has, in the order to try them; ``OSError`` when none."""
        ...


class SystemResolver:
    """The operating system's resolver (``getaddrinfo``), as sockets would use it."""

    async def resolve(self, host: str, port: int) -> list[str]:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_refusal(address: str, *, allow_private: bool = False) -> str | None:
    """Why Vectis will not connect to ``address``, or ``None`` when it may.

    ``allow_private`` (the demo and tests, whose sandbox is on loopback) admits the local
    ranges, never the unusable ones: unspecified, multicast, reserved, Teredo.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    carried = _carried_ipv4(ip)
    judged: IPAddress = carried or ip
    local = _match(judged, _LOCAL)
    reason = _match(judged, _UNUSABLE) or (None if allow_private else local)
    if reason is None and local is None and judged.version == 6 and judged not in _UNICAST:
        reason = "reserved"
    if reason is None:
        return None
    return f"it carries {carried}: {reason}" if carried else reason


def first_refusal(host: str, addresses: Sequence[str], *, allow_private: bool) -> str | None:
    """The message refusing ``host`` for its first address Vectis must not reach, or ``None``."""
    for address in addresses:
        reason = address_refusal(address, allow_private=allow_private)
        if reason is not None:
            return f"{host} resolves to {address}, which is not a public address ({reason})"
    return None


def _networks(*ranges: tuple[str, str]) -> tuple[tuple[Network, str], ...]:
    return tuple((ipaddress.ip_network(network), reason) for network, reason in ranges)


# Never a vendor, even in a sandbox. The first match names the reason, so specific ranges
# come before the blocks that contain them.
_UNUSABLE = _networks(
    ("0.0.0.0/8", "the unspecified 'this network' range"),
    ("192.88.99.0/24", "the deprecated 6to4 relay range"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved or broadcast"),
    ("::/128", "the unspecified address"),
    ("2001::/32", "Teredo"),
    ("2001::/23", "IETF protocol assignments"),
    ("ff00::/8", "multicast"),
)
# On the operator's own network or set aside: allowed only with ``allow_private``.
_LOCAL = _networks(
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "carrier-grade NAT"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("::1/128", "loopback"),
    # Local-use NAT64 (RFC 8215): where the IPv4 address sits depends on the local prefix.
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("fc00::/7", "unique-local"),
    ("fe80::/10", "link-local"),
)
_UNICAST = ipaddress.IPv6Network("2000::/3")
"""IANA's global unicast block; the rest of the IPv6 space is reserved (or listed above)."""
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
_NOT_CARRIERS = (ipaddress.IPv6Address("::"), ipaddress.IPv6Address("::1"))


def _carried_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, when it stands for one."""
    if not isinstance(ip, ipaddress.IPv6Address) or ip in _NOT_CARRIERS:
        return None
    if ip in _SIX_TO_FOUR:
        return ip.sixtofour
    if any(ip in block for block in (_MAPPED, _TRANSLATED, _COMPATIBLE, _NAT64)):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _match(ip: IPAddress, ranges: tuple[tuple[Network, str], ...]) -> str | None:
    return next((reason for network, reason in ranges if ip in network), None)
