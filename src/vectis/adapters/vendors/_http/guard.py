"""The HTTP client every vendor call goes through: each connection is checked as it is made.

A name is resolved once per connection, every address it resolves to is judged by
``address_refusal``, and the socket is opened to one of those checked addresses, so DNS
rebinding between a check and the connect cannot happen. TLS still verifies the certificate
against the name (SNI and hostname check use the URL's host). Redirects are never followed and
no proxy from the environment is used (a proxy would make its own connections, unchecked).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable

import httpcore
import httpx

from vectis.adapters.vendors._http.addresses import Resolver, SystemResolver, first_refusal
from vectis.domain.errors import VendorAddressRefused


def guarded_client(
    *,
    allow_private: bool,
    timeout: httpx.Timeout,
    resolver: Resolver | None = None,
    verify: ssl.SSLContext | bool = True,
) -> httpx.AsyncClient:
    """The shared vendor client: guarded connections, no redirects, no environment proxies."""
    network = GuardedNetwork(allow_private=allow_private, resolver=resolver or SystemResolver())
    return httpx.AsyncClient(
        transport=GuardedTransport(network, verify=verify),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )


class GuardedNetwork(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to addresses that pass the address check."""

    def __init__(self, *, allow_private: bool, resolver: Resolver) -> None:
        self.allow_private = allow_private
        self._resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._resolve(host, port, timeout)
        refusal = first_refusal(host, addresses, allow_private=self.allow_private)
        if refusal is not None:
            raise VendorAddressRefused(f"Vectis will not connect: {refusal}")
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        raise failure or httpcore.ConnectError(f"{host} has no address")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise VendorAddressRefused("Vectis will not connect a vendor over a local socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)

    async def _resolve(self, host: str, port: int, seconds: float | None) -> list[str]:
        """The host's addresses; a failed look-up is a connect error (retried, then reported)."""
        try:
            async with asyncio.timeout(seconds):
                addresses = await self._resolver.resolve(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"looking up {host} took too long") from None
        except OSError as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from None
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address")
        return addresses


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, with its connection pool built on a ``GuardedNetwork``."""

    def __init__(self, network: GuardedNetwork, *, verify: ssl.SSLContext | bool = True) -> None:
        context = httpx.create_ssl_context(verify=verify)
        super().__init__(verify=context, trust_env=False)
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            # httpx keeps its pool in ``_pool``; should that change, fail here, not unguarded.
            raise RuntimeError("this httpx version cannot take a guarded connection pool")
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=100,  # httpx's default limits
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=network,
        )
        self._network = network

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme != "https" and not self._network.allow_private:
            raise VendorAddressRefused(
                f"Vectis will not call a vendor over {request.url.scheme}, only https"
            )
        return await super().handle_async_request(request)
