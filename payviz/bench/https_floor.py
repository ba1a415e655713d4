"""The loopback floor: uvicorn serving an empty app over HTTPS, and an httpx client.

The server is started exactly as payviz starts its actors (`LoopbackServers`: same TLS
set-up from a local CA, same uvicorn settings), so the only difference from a real run is
everything payviz does between receiving a request and answering it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from payviz.engine.loopback import LoopbackServers

from .floor import empty_app


@asynccontextmanager
async def https_client() -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client with keep-alive, talking HTTPS to one empty uvicorn server."""
    servers = LoopbackServers({"floor": empty_app})
    await servers.start()
    try:
        client = httpx.AsyncClient(
            verify=servers.client_ssl_context(), base_url=servers.urls["floor"]
        )
        async with client:
            yield client
    finally:
        await servers.stop()
