"""Every vendor connection is checked as it is made: DNS rebinding and redirects get nowhere."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from attrs import define, field
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from dependency_injector import providers

from tests.adapters.fake_dns import PUBLIC, FakeResolver
from tests.factories import make_tenant
from vectis.adapters.vendors._http.addresses import address_refusal
from vectis.adapters.vendors._http.guard import guarded_client
from vectis.adapters.vendors._http.transport import RetryPolicy, VendorTransport
from vectis.adapters.vendors._http.urls import VendorUrlPolicy
from vectis.container import Container
from vectis.domain.errors import VendorAddressRefused, VendorRejected, VendorUnavailable
from vectis.domain.integration import Credentials
from vectis.settings import Settings

TIMEOUT = httpx.Timeout(5.0)
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


@define
class Listener:
    """A loopback TCP server that records every connection and every byte it is sent."""

    port: int = 0
    connections: int = 0
    received: bytearray = field(factory=bytearray)


@contextlib.asynccontextmanager
async def listening(
    answer: bytes = OK, tls: ssl.SSLContext | None = None
) -> AsyncIterator[Listener]:
    listener = Listener()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        listener.connections += 1
        with contextlib.suppress(ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            listener.received += await reader.readuntil(b"\r\n\r\n")
            writer.write(answer)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=tls)
    listener.port = server.sockets[0].getsockname()[1]
    async with server:
        yield listener


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("169.254.169.254", "link-local"),
        ("198.18.0.1", "benchmarking"),
        ("192.0.2.1", "documentation"),
        ("192.0.0.8", "IETF protocol"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("224.0.0.251", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "broadcast"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "carries 127.0.0.1: loopback"),
        ("::ffff:169.254.169.254", "carries 169.254.169.254: link-local"),
        ("::127.0.0.1", "carries 127.0.0.1: loopback"),
        ("::ffff:0:10.0.0.1", "carries 10.0.0.1: private"),
        ("64:ff9b::7f00:1", "carries 127.0.0.1: loopback"),
        ("64:ff9b::a9fe:a9fe", "carries 169.254.169.254: link-local"),
        ("64:ff9b:1::808:808", "local-use NAT64"),
        ("2002:7f00:1::1", "carries 127.0.0.1: loopback"),
        ("2002:c0a8:101::1", "carries 192.168.1.1: private"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
        ("2001:0:5ef5:79fd::808:808", "Teredo"),
        ("fc00::1", "unique-local"),
        ("fd12:3456::1", "unique-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "documentation"),
        ("100::1", "reserved"),
        ("fec0::1", "reserved"),
        ("not-an-address", "not an IP address"),
    ],
)
def test_each_form_of_a_non_public_address_is_refused(address: str, reason: str) -> None:
    refusal = address_refusal(address)
    assert refusal is not None and reason in refusal


@pytest.mark.parametrize(
    "address",
    [
        PUBLIC,
        "8.8.8.8",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",  # NAT64 of a public address: how IPv6-only hosts reach vendors
        "2002:808:808::1",
    ],
)
def test_public_addresses_pass_even_inside_ipv6(address: str) -> None:
    assert address_refusal(address) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.1.2.3", "fd00::1", "169.254.1.1"])
def test_the_sandbox_setting_admits_local_addresses(address: str) -> None:
    assert address_refusal(address, allow_private=True) is None


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "224.0.0.1", "ff02::1", "2001::1", "100::1"])
def test_the_sandbox_setting_still_refuses_unusable_addresses(address: str) -> None:
    assert address_refusal(address, allow_private=True) is not None


async def test_a_refused_connection_sends_no_byte() -> None:
    resolver = FakeResolver({"vendor.example": [["127.0.0.1"]]})
    async with (
        listening() as listener,
        guarded_client(allow_private=False, timeout=TIMEOUT, resolver=resolver) as http,
    ):
        with pytest.raises(VendorAddressRefused, match=r"127\.0\.0\.1.*not a public.*loopback"):
            await http.get(f"https://vendor.example:{listener.port}/v4_6_release")

    assert resolver.lookups == ["vendor.example"]
    assert (listener.connections, bytes(listener.received)) == (0, b"")


async def test_the_checked_address_is_called_with_the_name_in_the_request() -> None:
    resolver = FakeResolver({"vendor.example": [["127.0.0.1"]]})
    async with (
        listening() as listener,
        guarded_client(allow_private=True, timeout=TIMEOUT, resolver=resolver) as http,
    ):
        response = await http.get(f"http://vendor.example:{listener.port}/api")

    assert response.status_code == 200
    assert listener.connections == 1
    assert f"Host: vendor.example:{listener.port}".encode() in listener.received


async def test_dns_rebinding_after_the_save_time_check_is_refused_at_connect() -> None:
    resolver = FakeResolver({"vendor.example": [[PUBLIC], ["127.0.0.1"]]})
    async with listening() as listener:
        url = f"https://vendor.example:{listener.port}/v4_6_release"
        assert await VendorUrlPolicy(resolver=resolver).check_base_url(url) == url
        async with guarded_client(allow_private=False, timeout=TIMEOUT, resolver=resolver) as http:
            with pytest.raises(VendorAddressRefused, match=r"127\.0\.0\.1"):
                await http.get(url + "/apis/3.0/system/info")

    assert resolver.lookups == ["vendor.example", "vendor.example"]
    assert listener.connections == 0


async def test_one_private_address_among_public_ones_refuses_the_name() -> None:
    resolver = FakeResolver({"vendor.example": [[PUBLIC, "::ffff:127.0.0.1"]]})
    async with guarded_client(allow_private=False, timeout=TIMEOUT, resolver=resolver) as http:
        with pytest.raises(VendorAddressRefused, match=r"carries 127\.0\.0\.1"):
            await http.get("https://vendor.example/")


async def test_a_refusal_is_fatal_and_not_retried() -> None:
    resolver = FakeResolver({"vendor.example": [["169.254.169.254"]]})
    async with guarded_client(allow_private=False, timeout=TIMEOUT, resolver=resolver) as http:
        transport = VendorTransport(http, vendor="ConnectWise", retry=RetryPolicy(base_delay=0))
        with pytest.raises(VendorAddressRefused) as refused:
            await transport.request("GET", "https://vendor.example/latest/meta-data")

    assert isinstance(refused.value, VendorRejected) and not refused.value.retriable
    assert resolver.lookups == ["vendor.example"]


async def test_plain_http_is_refused_unless_private_urls_are_allowed() -> None:
    resolver = FakeResolver({"vendor.example": [["127.0.0.1"]]})
    async with (
        listening() as listener,
        guarded_client(allow_private=False, timeout=TIMEOUT, resolver=resolver) as http,
    ):
        with pytest.raises(VendorAddressRefused, match="only https"):
            await http.get(f"http://vendor.example:{listener.port}/")

    assert resolver.lookups == [] and listener.connections == 0


async def test_a_name_that_does_not_resolve_is_unreachable_not_a_crash() -> None:
    async with guarded_client(
        allow_private=True, timeout=TIMEOUT, resolver=FakeResolver({})
    ) as http:
        transport = VendorTransport(http, vendor="HaloPSA", retry=RetryPolicy(attempts=1))
        with pytest.raises(VendorUnavailable, match=r"cannot resolve gone\.example"):
            await transport.request("GET", "https://gone.example/api")


async def test_a_redirect_to_another_host_is_not_followed() -> None:
    async with listening() as elsewhere:
        moved = (
            b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n"
            b"Location: http://elsewhere.example:%d/steal\r\n\r\n" % elsewhere.port
        )
        async with listening(moved) as vendor:
            resolver = FakeResolver(
                {"vendor.example": [["127.0.0.1"]], "elsewhere.example": [["127.0.0.1"]]}
            )
            async with guarded_client(
                allow_private=True, timeout=TIMEOUT, resolver=resolver
            ) as http:
                transport = VendorTransport(http, vendor="NinjaOne")
                with pytest.raises(VendorRejected, match="302"):
                    await transport.request("GET", f"http://vendor.example:{vendor.port}/v2/x")

    assert vendor.connections == 1
    assert elsewhere.connections == 0 and "elsewhere.example" not in resolver.lookups


async def test_tls_verifies_the_name_while_connecting_to_the_checked_address(
    tmp_path: Path,
) -> None:
    authority, server_tls = _tls_for("vendor.example", tmp_path)
    resolver = FakeResolver(
        {"vendor.example": [["127.0.0.1"]], "impostor.example": [["127.0.0.1"]]}
    )
    async with (
        listening(tls=server_tls) as listener,
        guarded_client(
            allow_private=True, timeout=TIMEOUT, resolver=resolver, verify=authority
        ) as http,
    ):
        response = await http.get(f"https://vendor.example:{listener.port}/")
        with pytest.raises(httpx.ConnectError, match="Hostname mismatch"):
            await http.get(f"https://impostor.example:{listener.port}/")

    assert response.status_code == 200


async def test_the_container_client_is_the_guarded_one() -> None:
    strict = Container(
        settings=Settings(allow_private_urls=False), database_url="unused", secret_key="unused"
    )
    http = strict.http_client()
    async with listening() as listener:
        with pytest.raises(VendorAddressRefused, match="loopback"):
            await http.get(f"https://localhost:{listener.port}/")
    await http.aclose()

    assert listener.connections == 0


async def test_an_integration_whose_name_rebinds_to_loopback_is_never_called(
    container: Container,
) -> None:
    resolver = FakeResolver({"psa.example": [[PUBLIC], ["127.0.0.1"]]})
    container.url_policy.override(providers.Object(VendorUrlPolicy(resolver=resolver)))
    container.http_client.override(
        providers.Object(guarded_client(allow_private=False, timeout=TIMEOUT, resolver=resolver))
    )
    services = container.services()
    world = await make_tenant(services)

    async with listening() as listener:
        with pytest.raises(VendorAddressRefused, match=r"psa\.example resolves to 127\.0\.0\.1"):
            await services.integrations.add(
                world.principal,
                vendor="connectwise",
                name="Rebinding",
                base_url=f"https://psa.example:{listener.port}/v4_6_release",
                credentials=Credentials(
                    values={
                        "company_id": "c",
                        "public_key": "p",
                        "private_key": "k",
                        "client_id": "i",
                    }
                ),
            )

    assert listener.connections == 0
    assert await services.integrations.list(world.principal) == []


def _tls_for(name: str, directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A throw-away certificate authority (the client's trust) and a server certificate for
    ``name`` it signed (the server's context)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Vectis test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    chain = directory / "server.pem"
    chain.write_bytes(
        certificate.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(chain)
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return client, server
