"""Idempotency keys with Stripe's semantics.

The first response to a key is stored and replayed to every retry with that key; the same
key with different parameters is an `idempotency_error`; the same key while the first
request is still running is a 409 `idempotency_key_in_use`. Keys are pruned 24 h after
their response was stored, never while their request is still running.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass

from ..clock import Clock

KEY_LIFETIME_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 255


@dataclass(slots=True)
class StoredResponse:
    fingerprint: str
    created: float
    status: int | None = None  # None while the first request is in flight
    body: bytes = b""
    finished: float | None = None  # when the response was stored


class IdempotencyError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class IdempotencyStore:
    """Remembers the first response per (account, key)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._entries: dict[tuple[str, str], StoredResponse] = {}
        # Finished keys in the order their responses were stored (time only moves forward),
        # so pruning looks at the expired ones alone, not at every key a long run made.
        self._finished: deque[tuple[float, tuple[str, str], StoredResponse]] = deque()

    def _prune(self) -> None:
        now = self._clock.now()
        finished = self._finished
        # A key lives 24 h from its stored response. A request still running keeps its key
        # whatever its age: pruning it would let a retry run a second payment, and leave
        # the first with nowhere to store its answer (running keys are never in the queue).
        while finished and now - finished[0][0] > KEY_LIFETIME_SECONDS:
            _, scope, entry = finished.popleft()
            if self._entries.get(scope) is entry:
                del self._entries[scope]

    def begin(self, account: str, key: str, body: bytes) -> StoredResponse | None:
        """None: go ahead (and call `finish`); a StoredResponse: replay it."""
        if not key or len(key) > MAX_KEY_LENGTH:
            raise IdempotencyError(
                400, "idempotency_error", f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} characters"
            )
        self._prune()
        fingerprint = hashlib.sha256(body).hexdigest()
        entry = self._entries.get((account, key))
        if entry is None:
            self._entries[(account, key)] = StoredResponse(fingerprint, self._clock.now())
            return None
        if entry.fingerprint != fingerprint:
            raise IdempotencyError(
                422,
                "idempotency_error",
                "this Idempotency-Key was already used with different parameters",
            )
        if entry.status is None:
            raise IdempotencyError(
                409, "idempotency_key_in_use", "a request with this Idempotency-Key is running"
            )
        return entry

    def finish(self, account: str, key: str, status: int, body: bytes) -> None:
        entry = self._entries[(account, key)]
        entry.status = status
        entry.body = body
        entry.finished = self._clock.now()
        self._finished.append((entry.finished, (account, key), entry))

    def abandon(self, account: str, key: str) -> None:
        """The first request failed before producing a response: let a retry run."""
        self._entries.pop((account, key), None)
