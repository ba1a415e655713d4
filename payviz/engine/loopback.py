"""Actors as real HTTPS servers on 127.0.0.1, all inside the caller's event loop.

Each ASGI app gets its own uvicorn server and listening socket; certificates come from a
`LocalCA` made for this set of servers, so only clients given `client_ssl_context()` can
talk to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import shutil
import socket
import sys
import tempfile
from collections.abc import Generator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import uvicorn

from .tls import DEFAULT_SERVER_NAMES, LocalCA

if TYPE_CHECKING:
    import ssl

    from .network import ASGIApp

START_TIMEOUT = 5.0
# Bounds stop(): a client that never closes its connection must not hold the session open.
GRACEFUL_SHUTDOWN_SECONDS = 3
_DRAIN_POLL_SECONDS = 0.05


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves process signals to the host application.

    uvicorn.Server.serve() replaces the SIGINT/SIGTERM handlers while it runs (when on the
    main thread), restores them afterwards and then re-raises any signal it swallowed. With
    several servers started and stopped in a different order the restores interleave and a
    stale handler can be left installed; and Ctrl+C belongs to the host, not to an actor.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on accepted connections whose
    # protocol says TCP, and without it every small response waits ~40 ms for delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        # On Windows SO_REUSEADDR lets another process steal a bound port; elsewhere it
        # only lets a fixed port_base be reused while old connections sit in TIME_WAIT.
        if sys.platform != "win32":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


class LoopbackServers:
    """Runs each actor's ASGI app under uvicorn over HTTPS on its own loopback port.

    Args:
        apps: party name -> ASGI app; with `port_base`, ports follow this order.
        port_base: first fixed port; None binds ephemeral ports chosen by the OS.
        host: IP literal to listen on.
        cert_dir: where the PEM files go; None uses a temporary directory removed on stop().
        start_timeout: seconds to wait for every server to be accepting connections.
    """

    def __init__(
        self,
        apps: dict[str, ASGIApp],
        *,
        port_base: int | None = None,
        host: str = "127.0.0.1",
        cert_dir: Path | None = None,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(f"host must be an IP literal, got {host!r}") from None
        self._apps = dict(apps)
        self._port_base = port_base
        self._host = host
        self._cert_dir = cert_dir
        self._start_timeout = start_timeout
        self._ca: LocalCA | None = None
        self._ca_cert_path: Path | None = None
        self._temp_dir: Path | None = None
        self._servers: dict[str, _EmbeddedServer] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._sockets: list[socket.socket] = []
        self._ports: dict[str, int] = {}

    @property
    def urls(self) -> dict[str, str]:
        """Party name -> "https://127.0.0.1:PORT"."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return {name: f"https://{host}:{port}" for name, port in self._ports.items()}

    @property
    def ports(self) -> dict[str, int]:
        return dict(self._ports)

    @property
    def ca_cert_pem(self) -> str:
        return self._require_ca().ca_cert_pem

    @property
    def ca_cert_path(self) -> Path:
        if self._ca_cert_path is None:
            raise RuntimeError("no CA file: LoopbackServers not running and no cert_dir")
        return self._ca_cert_path

    def client_ssl_context(self) -> ssl.SSLContext:
        """A context trusting only this session's CA, with hostname checking on."""
        return self._require_ca().client_context()

    def _require_ca(self) -> LocalCA:
        if self._ca is None:
            raise RuntimeError("LoopbackServers not started")
        return self._ca

    async def start(self) -> None:
        """Bind, serve and return once every server accepts connections."""
        if self._tasks:
            raise RuntimeError("LoopbackServers already started")
        try:
            await self._start()
        except BaseException:
            # The reason the start failed matters more than how the cleanup went.
            await self._teardown(report=False)
            raise

    async def _start(self) -> None:
        self._ports.clear()
        self._ca = LocalCA()
        if self._cert_dir is None:
            self._temp_dir = Path(tempfile.mkdtemp(prefix="payviz-tls-"))
        directory = self._cert_dir or self._temp_dir
        assert directory is not None
        self._ca_cert_path = self._ca.write_ca_cert(directory)
        leaf = self._ca.issue_server_cert((*DEFAULT_SERVER_NAMES, self._host))
        certfile, keyfile = leaf.write(directory)

        for index, name in enumerate(self._apps):
            port = 0 if self._port_base is None else self._port_base + index
            try:
                sock = _listening_socket(self._host, port)
            except OSError as exc:
                raise RuntimeError(
                    f"cannot listen for {name!r} on {self._host}:{port}: {exc}"
                ) from exc
            self._sockets.append(sock)
            self._ports[name] = sock.getsockname()[1]

        for (name, app), sock in zip(self._apps.items(), self._sockets, strict=True):
            config = uvicorn.Config(
                app,
                host=self._host,
                port=self._ports[name],
                ssl_certfile=certfile,
                ssl_keyfile=keyfile,
                lifespan="off",
                # None stops uvicorn from running dictConfig over the host's logging setup.
                log_config=None,
                log_level="warning",
                access_log=False,
                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            )
            server = _EmbeddedServer(config)
            self._servers[name] = server
            self._tasks[name] = asyncio.create_task(
                server.serve(sockets=[sock]), name=f"payviz-loopback-{name}"
            )

        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._start_timeout
        while not all(server.started for server in self._servers.values()):
            for name, task in self._tasks.items():
                if task.done() and not self._servers[name].started:
                    # serve() swallows nothing, so a finished task carries the reason.
                    cause = None if task.cancelled() else task.exception()
                    raise RuntimeError(f"loopback server {name!r} failed to start") from cause
            if loop.time() > deadline:
                waiting = [n for n, s in self._servers.items() if not s.started]
                raise RuntimeError(
                    f"loopback servers {waiting} not started within {self._start_timeout:g} s"
                )
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop every server, wait for them to finish and delete the temporary files."""
        await self._teardown(report=True)

    async def _teardown(self, *, report: bool) -> None:
        for server in self._servers.values():
            server.should_exit = True
        names = list(self._tasks)
        try:
            await self._drain()
            results = await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        finally:
            # uvicorn closes the sockets it served; these are the ones it never got to.
            for sock in self._sockets:
                sock.close()
            if self._temp_dir is not None:
                shutil.rmtree(self._temp_dir, ignore_errors=True)
                self._ca_cert_path = None
            self._servers.clear()
            self._tasks.clear()
            self._sockets.clear()
            self._temp_dir = None
        failures = [
            (name, result)
            for name, result in zip(names, results, strict=True)
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError)
        ]
        if report and failures:
            name, result = failures[0]
            raise RuntimeError(f"loopback server {name!r} failed") from result

    async def _drain(self) -> None:
        """Wait for the servers to exit, cutting connections uvicorn has already let go of.

        uvicorn closes an idle keep-alive connection with transport.close(), which for TLS
        sends close_notify and then waits for the peer's, up to asyncio's 30 s SSL shutdown
        timeout. A pooled client that is not reading never answers, and uvicorn waits for
        every connection to go, so stop() would stall until its graceful timeout.

        A closing transport carries no new application data, but it may still be flushing a
        response, so it is only cut once its TLS buffer is empty on two polls in a row: the
        TCP transport below holds at most about one flow-control window, which a reading peer
        drains in far less than a poll. Cutting a transport with a TLS backlog would truncate
        a response still on its way out.
        """
        pending: set[asyncio.Task[None]] = set(self._tasks.values())
        idle: set[asyncio.BaseTransport] = set()
        while pending:
            still_idle: set[asyncio.BaseTransport] = set()
            for server in self._servers.values():
                for connection in list(server.server_state.connections):
                    transport = connection.transport
                    if transport is None or not transport.is_closing():
                        continue
                    if transport.get_write_buffer_size() > 0:
                        continue
                    if transport in idle:
                        transport.abort()
                    else:
                        still_idle.add(transport)
            idle = still_idle
            _, pending = await asyncio.wait(pending, timeout=_DRAIN_POLL_SECONDS)

    async def __aenter__(self) -> LoopbackServers:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


__all__ = ["GRACEFUL_SHUTDOWN_SECONDS", "START_TIMEOUT", "LoopbackServers"]
