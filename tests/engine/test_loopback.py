"""Actors under uvicorn on 127.0.0.1, over HTTPS from the session CA."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import signal
import socket
import ssl
import stat
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from fastapi import FastAPI

from payviz.engine.loopback import GRACEFUL_SHUTDOWN_SECONDS, LoopbackServers
from payviz.engine.tls import LocalCA

pytestmark = pytest.mark.loopback

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]


def json_app(name: str) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = json.dumps({"party": name, "scheme": scope["scheme"]}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


def fastapi_app(name: str) -> FastAPI:
    app = FastAPI()

    @app.get("/")
    async def root() -> dict[str, str]:
        return {"party": name, "scheme": "https"}

    return app


def two_apps() -> dict[str, Any]:
    return {"merchant": json_app("merchant"), "psp": fastapi_app("psp")}


def refuses(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def accepts(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        return bool(sock.getpeername() == ("127.0.0.1", port))


def ssl_errors(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, ssl.SSLError):
            found.append(current)
        current = current.__cause__ or current.__context__
    return found


def test_each_app_listens_on_loopback_with_its_own_port() -> None:
    async def scenario() -> tuple[dict[str, str], dict[str, int], dict[str, bool]]:
        async with LoopbackServers(two_apps()) as servers:
            reachable = {name: accepts(port) for name, port in servers.ports.items()}
            return servers.urls, servers.ports, reachable

    urls, ports, reachable = asyncio.run(scenario())

    assert set(ports) == {"merchant", "psp"}
    assert len(set(ports.values())) == 2
    assert all(port > 0 for port in ports.values())
    assert urls == {name: f"https://127.0.0.1:{port}" for name, port in ports.items()}
    assert reachable == {"merchant": True, "psp": True}


def test_client_trusting_the_session_ca_gets_200_over_https() -> None:
    async def scenario() -> list[tuple[str, int, Any, str | None]]:
        answers = []
        async with (
            LoopbackServers(two_apps()) as servers,
            httpx.AsyncClient(verify=servers.client_ssl_context()) as client,
        ):
            for name, url in servers.urls.items():
                for base in (url, f"https://localhost:{servers.ports[name]}"):
                    response = await client.get(base + "/")
                    stream = response.extensions["network_stream"]
                    tls = stream.get_extra_info("ssl_object")
                    version = None if tls is None else tls.version()
                    answers.append((name, response.status_code, response.json(), version))
        return answers

    answers = asyncio.run(scenario())

    assert len(answers) == 4
    for name, status, body, tls_version in answers:
        assert status == 200
        assert body == {"party": name, "scheme": "https"}
        assert tls_version is not None
        assert tls_version.startswith("TLS")


def test_client_with_default_verification_rejects_the_certificate() -> None:
    async def scenario() -> BaseException:
        async with (
            LoopbackServers({"psp": json_app("psp")}) as servers,
            httpx.AsyncClient() as client,
        ):
            with pytest.raises(httpx.ConnectError) as caught:
                await client.get(servers.urls["psp"] + "/")
            return caught.value

    error = asyncio.run(scenario())

    causes = ssl_errors(error)
    assert any(isinstance(cause, ssl.SSLCertVerificationError) for cause in causes), causes
    assert "CERTIFICATE_VERIFY_FAILED" in str(error)


def test_port_refuses_connections_after_stop() -> None:
    async def scenario() -> tuple[dict[str, int], bool, Path, float]:
        servers = LoopbackServers(two_apps())
        await servers.start()
        ca_path = servers.ca_cert_path
        existed = ca_path.exists()
        async with httpx.AsyncClient(verify=servers.client_ssl_context()) as client:
            # The pooled, kept-alive connection never answers the server's TLS close_notify.
            assert (await client.get(servers.urls["merchant"] + "/")).status_code == 200
            began = time.monotonic()
            await servers.stop()
            took = time.monotonic() - began
        return servers.ports, existed, ca_path, took

    ports, existed, ca_path, took = asyncio.run(scenario())

    assert existed
    assert took < GRACEFUL_SHUTDOWN_SECONDS, "an idle kept-alive client held stop() open"
    assert not ca_path.parent.exists(), "the temporary certificate directory outlived stop()"
    assert all(refuses(port) for port in ports.values())


def test_session_ca_and_leaf_certificate() -> None:
    ca = LocalCA()
    leaf = ca.issue_server_cert()

    ca_cert = x509.load_pem_x509_certificate(ca.ca_cert_pem.encode())
    assert ca_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "payviz session CA"
    )
    assert ca_cert.issuer == ca_cert.subject
    assert ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca_cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert ca_cert.not_valid_after_utc - ca_cert.not_valid_before_utc < timedelta(days=2)

    leaf_cert = x509.load_pem_x509_certificate(leaf.cert_pem.encode())
    leaf_cert.verify_directly_issued_by(ca_cert)
    sans = leaf_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    eku = leaf_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert not leaf_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca

    context = ca.client_context()
    assert context.check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert len(context.get_ca_certs()) == 1


def test_cert_dir_is_used_and_kept(tmp_path: Path) -> None:
    async def scenario() -> tuple[Path, str]:
        async with LoopbackServers({"psp": json_app("psp")}, cert_dir=tmp_path) as servers:
            return servers.ca_cert_path, servers.ca_cert_pem

    ca_path, ca_pem = asyncio.run(scenario())

    assert ca_path.parent == tmp_path
    assert ca_path.read_text() == ca_pem
    keys = list(tmp_path.glob("*key*.pem"))
    assert len(keys) == 1
    assert stat.S_IMODE(keys[0].stat().st_mode) == 0o600


def test_port_in_use_fails_with_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        async def scenario() -> None:
            servers = LoopbackServers({"psp": json_app("psp")}, port_base=port)
            await servers.start()

        with pytest.raises(RuntimeError, match=f"cannot listen for 'psp' on 127.0.0.1:{port}"):
            asyncio.run(scenario())


def test_a_server_that_cannot_start_fails_start_with_the_reason() -> None:
    def broken(*args: object) -> Awaitable[None]:
        raise ValueError("not an ASGI app")

    async def scenario() -> None:
        servers = LoopbackServers({"psp": json_app("psp"), "bank": broken})
        await servers.start()

    with pytest.raises(RuntimeError, match="'bank' failed to start") as caught:
        asyncio.run(scenario())
    assert isinstance(caught.value.__cause__, ValueError)


def test_signal_handlers_are_left_to_the_host() -> None:
    def host_handler(signum: int, frame: object) -> None:
        raise AssertionError("not expected to be called")

    previous = signal.signal(signal.SIGINT, host_handler)
    try:

        async def scenario() -> object:
            async with LoopbackServers(two_apps()):
                return signal.getsignal(signal.SIGINT)

        during = asyncio.run(scenario())
        after = signal.getsignal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)

    assert during is host_handler
    assert after is host_handler


def test_runs_in_a_worker_thread() -> None:
    results: list[int] = []

    async def scenario() -> None:
        async with (
            LoopbackServers(two_apps()) as servers,
            httpx.AsyncClient(verify=servers.client_ssl_context()) as client,
        ):
            for url in servers.urls.values():
                results.append((await client.get(url + "/")).status_code)

    worker = threading.Thread(target=asyncio.run, args=(scenario(),))
    worker.start()
    worker.join(timeout=30)

    assert not worker.is_alive()
    assert results == [200, 200]


def test_stop_lets_a_response_in_flight_finish() -> None:
    # Big enough that the body is still crossing the wire when uvicorn closes the connection.
    size = 32 * 1024 * 1024
    body = b"x" * size

    async def scenario() -> tuple[int, int]:
        entered = asyncio.Event()
        release = asyncio.Event()

        async def slow_app(scope: Scope, receive: Receive, send: Send) -> None:
            entered.set()
            await release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})

        servers = LoopbackServers({"bank": slow_app})
        await servers.start()
        async with httpx.AsyncClient(verify=servers.client_ssl_context()) as client:
            request = asyncio.create_task(client.get(servers.urls["bank"] + "/"))
            await entered.wait()
            stopping = asyncio.create_task(servers.stop())
            # stop() is scheduled before the app wakes, so shutdown begins mid-request.
            release.set()
            response = await request
            await stopping
        return response.status_code, len(response.content)

    assert asyncio.run(scenario()) == (200, size)
