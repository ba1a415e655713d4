"""What an attacker or a careless customer does to a message on its way: the adversarial
faults, applied in the sender's transport so the trace shows what really travelled."""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from ._types import Party
from .context import CURRENT_RUN
from .faults import ADVERSARIAL_FAULTS, FaultPlan

if TYPE_CHECKING:
    from .trace import Trace
    from .world import World


def _rebuilt(
    request: httpx.Request,
    *,
    url: str | None = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Request:
    return httpx.Request(
        request.method,
        url or str(request.url),
        headers=headers if headers is not None else dict(request.headers),
        content=body if body is not None else request.content,
        extensions=request.extensions,
    )


def flip_ciphertext_byte(token: str) -> str:
    """The same JWE with one byte of its ciphertext flipped: the GCM tag must catch it."""
    parts = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(parts[3] + "=" * (-len(parts[3]) % 4)))
    raw[len(raw) // 2] ^= 0x01
    parts[3] = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    return ".".join(parts)


def tamper(plan: FaultPlan, src: Party, dst: Party, request: httpx.Request) -> httpx.Request:
    """Apply the first adversarial fault of the plan that fits this request, if any."""
    if not any(fault.name in ADVERSARIAL_FAULTS for fault in plan.faults):
        return request
    headers = {k.lower(): v for k, v in request.headers.items()}
    body = request.content
    if b'"payment":"eyJ' in body.replace(b" ", b"") and plan.take(("tamper-jwe",), src, dst):
        data = json.loads(body)
        data["payment"] = flip_ciphertext_byte(str(data["payment"]))
        return _rebuilt(request, body=json.dumps(data, separators=(",", ":")).encode())
    if "webhook-signature" in headers and plan.take(("bad-signature",), src, dst):
        forged = "v1," + base64.b64encode(secrets.token_bytes(32)).decode()
        return _rebuilt(request, headers={**headers, "webhook-signature": forged})
    if "authorization" in headers and plan.take(("wrong-api-key",), src, dst):
        wrong = headers["authorization"].split(" ", 1)[0] + " sk_test_" + secrets.token_hex(12)
        return _rebuilt(request, headers={**headers, "authorization": wrong})
    if src == "browser" and request.url.path == "/return":
        params = dict(parse_qsl(request.url.query.decode()))
        if params.get("status") == "failed" and plan.take_named("forge-return"):
            params["status"], params["code"] = "paid", "00"
            parts = urlsplit(str(request.url))
            forged_url = urlunsplit(parts._replace(query=urlencode(params)))
            return _rebuilt(request, url=forged_url)
    return request


async def replay_notification(world: World, trace: Trace, after_seconds: float) -> None:
    """Someone captured a notification and sends it again, word for word, later on."""
    run = CURRENT_RUN.get().checkout
    sent = [
        m
        for m in trace.messages(run)
        if m.direction == "request" and m.dst == "merchant" and "webhook-signature" in m.headers
    ]
    if not sent:
        return
    original = sent[-1]
    await world.clock.sleep(after_seconds)
    headers = {k: v for k, v in original.headers.items() if k.lower() != "content-length"}
    # The replayer is not a payviz actor: it arrives like any client on the internet.
    with contextlib.suppress(httpx.TransportError):
        await world.network.client("browser").post(
            str(original.url), content=original.body.encode(), headers=headers
        )
