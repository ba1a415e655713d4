"""What the Recorder makes of a message: its summary, kind and step, as the log shows them."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from payviz.engine._types import Mode
from payviz.engine.capture import Recorder, _to_microsecond
from payviz.engine.clock import VirtualClock
from payviz.engine.context import CURRENT_RUN, RunContext
from payviz.engine.trace import Message, Trace

NOTIFICATION_HEADERS = {
    "content-type": "application/json",
    "webhook-id": "msg_1",
    "webhook-signature": "v1,abc=",
}


def _recorder() -> tuple[Recorder, Trace]:
    trace = Trace()
    return Recorder(trace, VirtualClock(start=1_800_000_000.0)), trace


def _notify(recorder: Recorder, body: bytes) -> None:
    """The processor's notification to the gateway, with this body."""
    recorder.request(
        "processor",
        "gateway",
        "POST",
        "https://gateway.payviz.test/v1/notifications",
        NOTIFICATION_HEADERS,
        body,
    )


def test_a_notification_is_summarised_by_its_type_even_in_lenient_json() -> None:
    # NaN is not JSON, but Python's json module writes and reads it: the hint still shows.
    recorder, trace = _recorder()
    _notify(recorder, b'{"type": "payment.succeeded", "data": {"amount": NaN}}')
    (message,) = trace.messages()
    assert message.kind == "notification"
    assert message.summary == "POST /v1/notifications (payment.succeeded)"


def test_a_body_that_only_looks_like_json_gives_no_hint() -> None:
    recorder, trace = _recorder()
    _notify(recorder, b'{"type": "payment.succeeded"')
    exchange = recorder.request(
        "merchant", "gateway", "GET", "https://gateway.payviz.test/v1/payments/p1", {}, b""
    )
    recorder.response(exchange, 200, {"content-type": "application/json"}, b'["not", "an object"]')
    summaries = [m.summary for m in trace.messages()]
    assert summaries == ["POST /v1/notifications", "GET /v1/payments/p1", "200 OK"]


def test_the_same_exchange_takes_the_step_of_each_checkout_mode() -> None:
    recorder, trace = _recorder()
    runs: list[tuple[int, Mode]] = [(1, "direct"), (2, "redirect"), (3, "direct")]
    for checkout, mode in runs:
        token = CURRENT_RUN.set(RunContext(checkout, mode))
        try:
            exchange = recorder.request(
                "browser", "merchant", "POST", "https://merchant.payviz.test/checkout", {}, b""
            )
            recorder.response(exchange, 303, {"location": "/orders/o1"}, b"")
        finally:
            CURRENT_RUN.reset(token)
    steps = [(m.checkout, m.direction, m.step, m.title) for m in trace.messages()]
    assert steps == [
        (1, "request", 1, "User checkout"),
        (1, "response", 7, "Merchant updates the order"),
        (2, "request", 1, "User checkout"),
        (2, "response", 1, "User checkout"),
        (3, "request", 1, "User checkout"),
        (3, "response", 7, "Merchant updates the order"),
    ]
    assert all(isinstance(m, Message) for m in trace.records)


def test_the_gateway_taking_a_payment_for_later_is_part_of_forwarding_it() -> None:
    # With asynchronous notification the gateway answers 202 at once and forwards the
    # payment: that answer belongs to step 2, not to step 6 where a final answer relays
    # the outcome.
    recorder, trace = _recorder()
    token = CURRENT_RUN.set(RunContext(1, "direct"))
    try:
        for status in (202, 201):
            exchange = recorder.request(
                "merchant", "gateway", "POST", "https://gateway.payviz.test/v1/payments", {}, b""
            )
            recorder.response(exchange, status, {"content-type": "application/json"}, b"{}")
    finally:
        CURRENT_RUN.reset(token)
    answers = [(m.status, m.step) for m in trace.messages() if m.direction == "response"]
    assert answers == [(202, 2), (201, 6)]


@settings(max_examples=2000, derandomize=True, database=None, deadline=None)
@given(
    seconds=st.floats(allow_nan=True, allow_infinity=True)
    | st.floats(min_value=0, max_value=1e6)
    | st.integers(0, 10**12).map(lambda n: (n + 0.5) / 1e6)  # ties, as near as doubles get
    | st.integers(0, 10**9).map(lambda n: n * 0.004)
)
def test_a_message_time_is_its_seconds_rounded_to_the_microsecond(seconds: float) -> None:
    # the trace keeps a message's time as round(seconds, 6), whatever computes it
    expected = round(seconds, 6)
    got = _to_microsecond(seconds)
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert (got, math.copysign(1, got)) == (expected, math.copysign(1, expected))
