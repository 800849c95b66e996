"""Who the client is on the network: the socket's peer, or what a trusted proxy says it saw.

The address is what sign-in throttles and the audit log records, so a client must not choose
it. ``X-Forwarded-For`` is believed only when the peer is one of ``VECTIS_TRUSTED_PROXIES``,
and then only up to the first hop no trusted proxy holds: walking from the right, each
trusted proxy vouches for the hop before it, and the first untrusted hop is the client.
Falcon's ``remote_addr`` and uvicorn's proxy headers are not used: both believe the header.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import TypeAlias

import falcon.asgi

Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
Address: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

# No peer in the ASGI scope (a Unix socket): every such client counts as one.
UNKNOWN_PEER = "unknown"


class ClientAddress:
    """Middleware: ``req.context.client_address`` for every request, resolved once here."""

    def __init__(self, trusted_proxies: Sequence[Network] = ()) -> None:
        self._trusted = tuple(trusted_proxies)

    async def process_request(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        req.context.client_address = client_address(
            _peer(req), req.get_header("X-Forwarded-For"), self._trusted
        )


def client_address(peer: str, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The client's address, given the socket's peer and the ``X-Forwarded-For`` it sent."""
    last = _parse(peer)
    if last is None or not forwarded_for or not _is_trusted(last, trusted):
        return peer
    for hop in reversed(forwarded_for.split(",")):
        address = _parse(hop.strip())
        if address is None:
            break  # a trusted proxy that could not tell: the client is that proxy
        if not _is_trusted(address, trusted):
            return str(address)
        last = address
    return str(last)


def _peer(req: falcon.asgi.Request) -> str:
    client = req.scope.get("client")
    return str(client[0]) if client else UNKNOWN_PEER


def _parse(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)
