"""The floor: what one checkout's essential work costs with nothing of payviz around it.

A direct checkout seals a card in a JWE and opens it, encodes and decodes four ISO 8583
messages, signs and verifies two notifications, writes its order to SQLite and makes nine
HTTP round trips. `OperationCounts` says how many of each one checkout really did (read
from its trace); `bare_operations` does exactly that many with the libraries alone, and the
round trips go to an ASGI app that answers 200 and nothing else.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI, Header
from pydantic import BaseModel

from payviz.engine import iso_messages as iso
from payviz.engine.actors.common import make_app
from payviz.engine.actors.merchant_db import Order, OrderBook
from payviz.engine.clock import VirtualClock
from payviz.engine.jwe import Decrypter, Encrypter, KeyPair
from payviz.engine.trace import Message
from payviz.engine.webhooks import Signer, Verifier, new_secret

CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
ISO_FIELDS = {
    "t": "0100",
    "2": "4242424242424242",
    "3": "000000",
    "4": "000000001999",
    "7": "1126175822",
    "11": "000001",
    "37": "123456789012",
    "41": "PAYVIZ01",
    "42": "merchant_payviz",
    "49": "840",
}
EVENT = '{"type":"payment.succeeded","data":{"id":"auth_1","order_id":"ord_1","amount":1999}}'
BODY = b"x" * 256


class FloorPayment(BaseModel):
    """A body shaped like the gateway's payment request (ids, an amount, a sealed card)."""

    order_id: str
    amount: int
    currency: str
    description: str
    payment: str


FRAMEWORK_BODY = (
    FloorPayment(
        order_id="ord_0123456789ab",
        amount=1999,
        currency="USD",
        description="payviz order",
        payment="x" * 160,
    )
    .model_dump_json()
    .encode()
)
FRAMEWORK_HEADERS = {"content-type": "application/json", "idempotency-key": "k" * 32}


@dataclass(frozen=True, slots=True)
class OperationCounts:
    """The essential operations of one checkout, counted from its messages."""

    round_trips: int
    jwe: int
    iso: int
    notifications: int

    @classmethod
    def from_messages(cls, messages: list[Message]) -> OperationCounts:
        requests = [m for m in messages if m.direction == "request" and m.protocol != "email"]
        return cls(
            round_trips=len(requests),
            jwe=sum(1 for m in requests if m.encrypted),
            iso=sum(1 for m in messages if m.protocol == "iso8583"),
            notifications=sum(1 for m in requests if m.kind == "notification"),
        )


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def empty_app(scope: Scope, receive: Receive, send: Send) -> None:
    """An ASGI app that reads the request and answers 200 with no body."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        event = await receive()
        more = bool(event.get("more_body", False))
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def framework_app() -> FastAPI:
    """The actors' framework with nothing of payviz in it: an app made as every actor's is
    (`make_app`) with one endpoint taking a validated JSON body and a header, answering a
    small JSON object. The difference to `empty_app` is what FastAPI costs a request."""
    app = make_app("floor")

    @app.post("/")
    async def pay(
        body: FloorPayment, idempotency_key: str | None = Header(default=None)
    ) -> dict[str, Any]:
        return {"id": "pay_1", "order_id": body.order_id, "status": "authorized"}

    return app


class BareOperations:
    """Keys, secrets and a database made once; `run` does one checkout's worth of work."""

    def __init__(self, counts: OperationCounts) -> None:
        self.counts = counts
        keys = KeyPair.generate()
        self._encrypter = Encrypter(keys.kid, keys.public_pem)
        self._decrypter = Decrypter(keys)
        secret = new_secret()
        clock = VirtualClock()
        self._signer = Signer(secret, clock)
        self._verifier = Verifier(secret, clock)
        self._orders = OrderBook(":memory:")
        self._serial = 0

    def crypto_and_storage(self) -> None:
        """JWE, ISO 8583, HMAC and the merchant's SQLite writes, once per checkout."""
        for _ in range(self.counts.jwe):
            self._decrypter.open(self._encrypter.seal(CARD))
        for _ in range(self.counts.iso):
            iso.decode(iso.encode(ISO_FIELDS))
        for index in range(self.counts.notifications):
            headers = self._signer.headers(f"msg_{index}", EVENT)
            self._verifier.verify(EVENT, headers)
        self._serial += 1
        order_id = f"ord_{self._serial:012x}"
        order = Order(order_id, 1999, "USD", "a@example.com", "direct", "pending", *[None] * 4)
        self._orders.create(order, 0.0)
        self._orders.set_payment_ref(order_id, f"pay_{self._serial}")
        self._orders.move(order_id, "paid", "gateway response", 0.0, card="424242******4242")
        self._orders.queue_email(order_id, "a@example.com", "Order confirmed", "Thanks", 0.0)
        self._orders.first_sighting(f"msg_{self._serial}", 0.0)

    def close(self) -> None:
        self._orders.close()


async def time_bare(
    counts: OperationCounts,
    checkouts: int,
    client: httpx.AsyncClient,
    *,
    body: bytes = BODY,
    headers: dict[str, str] | None = None,
) -> float:
    """Seconds per checkout for the bare operations plus `round_trips` requests via `client`."""
    bare = BareOperations(counts)
    try:
        for _ in range(3):  # warm the code paths and the connection pool
            bare.crypto_and_storage()
            await client.post("/", content=body, headers=headers)
        started = time.perf_counter()
        for _ in range(checkouts):
            bare.crypto_and_storage()
            for _ in range(counts.round_trips):
                await client.post("/", content=body, headers=headers)
        return (time.perf_counter() - started) / checkouts
    finally:
        bare.close()


async def time_round_trips(count: int, client: httpx.AsyncClient) -> float:
    """Seconds per round trip through `client` (after a few to warm up)."""
    for _ in range(3):
        await client.post("/", content=BODY)
    started = time.perf_counter()
    for _ in range(count):
        await client.post("/", content=BODY)
    return (time.perf_counter() - started) / count


def asgi_client(app: Any = empty_app) -> httpx.AsyncClient:
    """httpx straight into `app` (`empty_app` by default), as payviz's in-process network does."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://floor.payviz.test"
    )


async def _demo() -> None:  # pragma: no cover - a manual check
    counts = OperationCounts(9, 1, 4, 2)
    async with asgi_client() as client:
        print(await time_bare(counts, 50, client))


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(_demo())
