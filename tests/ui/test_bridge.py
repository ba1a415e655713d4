"""The engine bridge: checkouts on the engine thread, records batched into the UI thread."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QTimer

from payviz.engine.clock import SystemClock
from payviz.engine.scenario import Scenario
from payviz.engine.session import Session
from payviz.engine.trace import Message, Record
from payviz.ui.bridge import EngineBridge


@pytest.fixture
def make_bridge() -> Iterator[Callable[..., EngineBridge]]:
    made: list[EngineBridge] = []

    def make(**kwargs: object) -> EngineBridge:
        bridge = EngineBridge(**kwargs)  # type: ignore[arg-type]
        made.append(bridge)
        return bridge

    yield make
    for bridge in made:
        bridge.shutdown()


def _collect(bridge: EngineBridge) -> list[list[Record]]:
    batches: list[list[Record]] = []
    bridge.records_recorded.connect(batches.append)
    return batches


def test_a_checkout_delivers_every_record_then_its_result(qtbot, make_bridge) -> None:
    bridge = make_bridge()
    batches = _collect(bridge)
    busy: list[bool] = []
    bridge.busy_changed.connect(busy.append)
    ui_thread = threading.get_ident()
    threads: set[int] = set()
    bridge.records_recorded.connect(lambda _: threads.add(threading.get_ident()))
    with qtbot.waitSignal(bridge.checkout_finished, timeout=20_000) as finished:
        assert bridge.run_checkout(Scenario(mode="direct"))
    result = finished.args[0]
    assert result.order_status == "paid"
    assert busy == [True, False]
    assert threads == {ui_thread}
    session = bridge.session
    assert session is not None
    received = [record for batch in batches for record in batch]
    assert received == session.trace.records
    assert received[-1].seq == result.last_seq
    assert bridge.keylog["jwe_keys"]
    assert bridge.started_at == session.world.recorder.started


def test_many_records_come_in_few_signals_and_none_is_lost(qtbot, make_bridge) -> None:
    bridge = make_bridge(batch_ms=50)
    batches = _collect(bridge)
    finished: list[object] = []
    bridge.checkout_finished.connect(finished.append)
    for mode in ("direct", "redirect", "direct", "redirect", "direct", "direct"):
        bridge.run_checkout({"mode": mode})
    qtbot.waitUntil(lambda: len(finished) == 6 and not bridge.busy, timeout=30_000)
    received = [record for batch in batches for record in batch]
    assert [r.seq for r in received] == list(range(1, len(received) + 1))
    assert received[-1].seq == finished[-1].last_seq  # type: ignore[attr-defined]
    assert len(batches) < len(received) / 5
    assert {r.checkout for r in received if isinstance(r, Message)} == set(range(1, 7))


def test_bad_input_is_reported_not_raised(qtbot, make_bridge) -> None:
    bridge = make_bridge()
    with qtbot.waitSignal(bridge.checkout_failed) as failed:
        assert not bridge.run_checkout({"mode": "direct", "notify": "webhook"})
    assert "does not apply to direct mode" in failed.args[0]
    with qtbot.waitSignal(bridge.checkout_failed) as failed:
        bridge.run_checkout({"card": "4242424242424241"})
    assert "Luhn" in failed.args[0]
    assert not bridge.busy


def test_a_slow_bank_does_not_freeze_the_ui(qtbot, make_bridge) -> None:
    bridge = make_bridge(session_factory=lambda: Session(clock=SystemClock()))
    # The session up and one checkout done first: what is timed is the slow bank's, not
    # the engine's start (its services are built then, once).
    with qtbot.waitSignal(bridge.checkout_finished, timeout=20_000):
        bridge.run_checkout(Scenario(mode="direct"))
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    started = time.monotonic()
    with qtbot.waitSignal(bridge.checkout_finished, timeout=20_000) as finished:
        bridge.run_checkout(Scenario(mode="direct", bank_latency=1.0))
    timer.stop()
    took = time.monotonic() - started
    assert finished.args[0].order_status == "paid"
    assert took >= 1.0  # the bank really took its time, on the real clock
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) >= 0.5 * took / 0.020
    assert max(gaps) < 0.25


def test_shutdown_joins_the_engine_thread(qtbot, make_bridge) -> None:
    bridge = make_bridge()
    with qtbot.waitSignal(bridge.checkout_finished, timeout=20_000):
        bridge.run_checkout({"mode": "redirect", "decision": "decline"})
    bridge.shutdown()
    assert not any(t.name == "payviz-engine" and t.is_alive() for t in threading.enumerate())
    assert not bridge.run_checkout({"mode": "direct"})
    bridge.shutdown()  # twice is harmless


def test_shutdown_during_a_slow_checkout_is_prompt(qtbot, make_bridge) -> None:
    bridge = make_bridge(session_factory=lambda: Session(clock=SystemClock()))
    batches = _collect(bridge)
    bridge.run_checkout(Scenario(mode="direct", bank_latency=30.0))
    qtbot.waitUntil(
        lambda: any(isinstance(r, Message) and r.mti == "0100" for b in batches for r in b)
    )
    started = time.monotonic()
    bridge.shutdown()  # the bank is still thinking: the checkout is cancelled, not awaited
    assert time.monotonic() - started < 5
    assert not any(t.name == "payviz-engine" and t.is_alive() for t in threading.enumerate())


def test_the_engine_waits_to_be_started_and_a_checkout_starts_it(qtbot, make_bridge) -> None:
    bridge = make_bridge()
    assert not bridge.started  # nothing of the engine loads until it is needed
    assert bridge.session is None
    with qtbot.waitSignal(bridge.checkout_finished, timeout=20_000) as finished:
        assert bridge.run_checkout({"mode": "direct"})
    assert bridge.started
    assert finished.args[0].order_status == "paid"


def test_checkouts_asked_for_while_the_session_starts_run_in_order(qtbot, make_bridge) -> None:
    bridge = make_bridge()
    bridge.start()
    finished: list[object] = []
    bridge.checkout_finished.connect(finished.append)
    for mode in ("redirect", "direct"):
        assert bridge.run_checkout({"mode": mode})
    bridge.start()  # twice is harmless
    qtbot.waitUntil(lambda: len(finished) == 2 and not bridge.busy, timeout=30_000)
    assert [result.checkout for result in finished] == [1, 2]  # type: ignore[attr-defined]


def test_a_bridge_never_started_shuts_down_at_once(make_bridge) -> None:
    bridge = make_bridge()
    bridge.shutdown()
    assert not bridge.started
    assert not bridge.run_checkout({"mode": "direct"})
    bridge.start()  # closed: stays stopped
    assert not bridge.started
