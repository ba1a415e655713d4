"""The bridge between the Qt event loop and the engine's asyncio loop on its own thread.

Commands go in with `asyncio.run_coroutine_threadsafe`. Trace records come out through a
thread-safe queue that a QTimer on the UI thread drains about every 50 ms, so a burst of
thousands of records costs the UI a handful of signals, not one repaint per record.

The engine starts when asked (`start`), or with the first checkout: the main window starts
it once it is on screen, so the engine's services (FastAPI, crypto, httpx), asyncio and the
scenario's validation load after the first paint, not before it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from PySide6.QtCore import QObject, Qt, QTimer, Signal

if TYPE_CHECKING:
    import asyncio
    import concurrent.futures
    import queue

    from payviz.engine.invariants import Violation
    from payviz.engine.scenario import Scenario
    from payviz.engine.session import CheckoutResult, Session
    from payviz.engine.trace import Record

SessionFactory = Callable[[], "Session"]


class CheckoutReport(NamedTuple):
    """What the engine thread hands back for one checkout: its outcome, the scenario that
    ran it and the invariants broken afterwards (checked on the engine thread)."""

    result: CheckoutResult
    scenario: Scenario
    violations: tuple[Violation, ...]


def describe_error(exc: BaseException) -> str:
    """A one-line reason a person can act on, from a validation error or an engine refusal."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        problems = []
        for err in exc.errors():
            where = ".".join(str(part) for part in err.get("loc", ()))
            text = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            problems.append(f"{where}: {text}" if where else text)
        return "; ".join(problems)
    return str(exc) or exc.__class__.__name__


class EngineBridge(QObject):
    """Owns the engine thread, its event loop and the Session; speaks Qt signals to the UI.

    Signals:
        records_recorded(list): trace records (Message / StateChange) in order, batched.
        checkout_finished(object): the CheckoutResult of a checkout.
        invariants_checked(list): the Violations found after that checkout ([]: all hold),
            emitted right before checkout_finished.
        checkout_failed(str): why a checkout could not run (bad input, engine refusal).
        busy_changed(bool): True while at least one checkout is running.

    Attributes:
        keylog: the session's key log (JWE private keys, webhook secrets), refreshed after
            every checkout; the inspector verifies messages with it.
        started_at: Unix time of the trace's clock origin (message times are relative).
        scenarios: checkout number -> the Scenario that ran it (what a saved session keeps).
        batch_ms: how often queued records are handed to the UI.
        started: whether the engine thread was started (`start`, or the first checkout).
    """

    records_recorded = Signal(list)
    checkout_finished = Signal(object)
    invariants_checked = Signal(list)
    checkout_failed = Signal(str)
    busy_changed = Signal(bool)
    # Emitted on the engine thread, delivered on the UI thread: (result, error text).
    _engine_finished = Signal(object, object)

    def __init__(
        self,
        session_factory: SessionFactory | None = None,
        batch_ms: int = 50,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._factory: SessionFactory = session_factory or _default_session
        self._queue: queue.SimpleQueue[Record] | None = None  # made by `start`
        self._session: Session | None = None
        self._pending = 0
        self._futures: set[concurrent.futures.Future[Any]] = set()
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready: concurrent.futures.Future[None] | None = None
        self._lock: asyncio.Lock | None = None
        self.keylog: dict[str, Any] = {}
        self.started_at: float | None = None
        self.scenarios: dict[int, Scenario] = {}
        self.batch_ms = batch_ms
        self._timer = QTimer(self)
        self._timer.setInterval(batch_ms)
        self._timer.timeout.connect(self._drain)
        self._engine_finished.connect(self._on_engine_finished, Qt.ConnectionType.QueuedConnection)

    # -- UI thread -------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Start the engine thread and its session, once (nothing after `shutdown`).

        Checkouts asked for before the session is up wait for it on the engine thread.
        """
        if self._closed or self._thread is not None:
            return
        import asyncio
        import queue

        self._queue = queue.SimpleQueue()
        self._loop = asyncio.new_event_loop()
        self._lock = asyncio.Lock()  # one checkout at a time; binds to the loop on first use
        self._thread = threading.Thread(target=self._run_loop, name="payviz-engine", daemon=True)
        self._thread.start()
        self._ready = asyncio.run_coroutine_threadsafe(self._start_session(), self._loop)

    @property
    def busy(self) -> bool:
        return self._pending > 0

    @property
    def session(self) -> Session | None:
        """The engine's session; read its trace only while the bridge is not busy."""
        return self._session

    def run_checkout(self, scenario: Scenario | Mapping[str, Any]) -> bool:
        """Start one checkout; a scenario given as fields is validated here, at the door."""
        if self._closed:
            return False
        import asyncio

        from payviz.engine.scenario import Scenario

        if not isinstance(scenario, Scenario):
            try:
                scenario = Scenario(**scenario)
            except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
                self.checkout_failed.emit(describe_error(exc))
                return False
        self.start()
        assert self._loop is not None
        self._pending += 1
        if self._pending == 1:
            self._timer.start()
            self.busy_changed.emit(True)
        future = asyncio.run_coroutine_threadsafe(self._checkout(scenario), self._loop)
        self._futures.add(future)
        future.add_done_callback(self._on_future_done)
        return True

    def _drain(self) -> None:
        import queue

        if self._queue is None:
            return
        batch: list[Record] = []
        while True:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if batch:
            self.records_recorded.emit(batch)

    def _on_engine_finished(self, result: object, error: object) -> None:
        if self._closed:
            return
        self._drain()  # every record of the checkout reaches the UI before its outcome
        self._pending -= 1
        if isinstance(result, CheckoutReport):
            self.scenarios[result.result.checkout] = result.scenario
            self.invariants_checked.emit(list(result.violations))
            self.checkout_finished.emit(result.result)
        elif error is None:
            self.checkout_finished.emit(result)
        else:
            self.checkout_failed.emit(str(error))
        if self._pending == 0:
            self._timer.stop()
            self.busy_changed.emit(False)

    def shutdown(self) -> None:
        """Cancel running work, close the session and join the engine thread."""
        if self._closed:
            return
        self._closed = True
        self._timer.stop()
        for future in list(self._futures):
            future.cancel()
        if self._loop is None or self._thread is None:  # never started: nothing to stop
            return
        import asyncio

        if self._loop.is_running():
            closing = asyncio.run_coroutine_threadsafe(self._close_session(), self._loop)
            try:
                closing.result(timeout=10)
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    # -- engine thread ---------------------------------------------------------------------

    def _run_loop(self) -> None:
        import asyncio

        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    async def _start_session(self) -> None:
        assert self._queue is not None
        session = self._factory()
        session.trace.subscribe(self._queue.put)
        await session.start()
        self._session = session
        self.keylog = session.keylog()
        self.started_at = session.world.recorder.started

    async def _checkout(self, scenario: Scenario) -> CheckoutReport:
        import asyncio

        from payviz.engine.invariants import check

        assert self._ready is not None
        assert self._lock is not None
        await asyncio.wrap_future(self._ready)
        assert self._session is not None
        async with self._lock:
            result = await self._session.run_checkout(scenario)
            self.keylog = self._session.keylog()
            # The guarantees are judged here, on the engine thread, over the world's state.
            violations = tuple(check(self._session.world))
            return CheckoutReport(result, scenario, violations)

    def _on_future_done(self, future: concurrent.futures.Future[Any]) -> None:
        self._futures.discard(future)
        if future.cancelled():
            self._engine_finished.emit(None, "cancelled")
            return
        exc = future.exception()
        if exc is None:
            self._engine_finished.emit(future.result(), None)
        else:
            self._engine_finished.emit(None, describe_error(exc))

    async def _close_session(self) -> None:
        import asyncio

        assert self._ready is not None
        with contextlib.suppress(Exception):
            await asyncio.wrap_future(self._ready)  # a session still starting is closed too
        if self._session is not None:
            await self._session.close()
        current = asyncio.current_task()
        others = [task for task in asyncio.all_tasks() if task is not current]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)


def _default_session() -> Session:
    from payviz.engine.session import Session

    return Session()
