"""The merchant's orders in SQLite: orders, their transitions, seen notifications, outbox.

Every change is one transaction, so a crash leaves the database consistent. An order only
moves forward: pending -> paid | failed, and failed -> pending again when the customer
retries with another card.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY,
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL,
    email TEXT NOT NULL,
    flow TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'failed')),
    card TEXT,
    payment_ref TEXT,
    response_code TEXT,
    reason TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS transitions (
    order_id TEXT NOT NULL REFERENCES orders(id),
    from_status TEXT,
    to_status TEXT NOT NULL,
    source TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS notifications (
    webhook_id TEXT PRIMARY KEY,
    received REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    order_id TEXT NOT NULL REFERENCES orders(id),
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    at REAL NOT NULL
);
"""

FORWARD: dict[str, set[str]] = {"pending": {"paid", "failed"}, "failed": {"pending"}, "paid": set()}


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    amount_minor: int
    currency: str
    email: str
    flow: str
    status: str
    card: str | None
    payment_ref: str | None
    response_code: str | None
    reason: str | None


class OrderBook:
    """The merchant's database."""

    def __init__(self, path: Path | str = ":memory:") -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._db.execute(
            "PRAGMA journal_mode=WAL" if str(path) != ":memory:" else "PRAGMA foreign_keys=ON"
        )
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def create(self, order: Order, at: float) -> None:
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT INTO orders VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    order.id,
                    order.amount_minor,
                    order.currency,
                    order.email,
                    order.flow,
                    order.status,
                    order.card,
                    order.payment_ref,
                    order.response_code,
                    order.reason,
                    at,
                    at,
                ),
            )
            self._db.execute(
                "INSERT INTO transitions VALUES (?,?,?,?,?)",
                (order.id, None, order.status, "checkout", at),
            )

    def get(self, order_id: str) -> Order | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, amount_minor, currency, email, flow, status, card, payment_ref,"
                " response_code, reason FROM orders WHERE id = ?",
                (order_id,),
            ).fetchone()
        return None if row is None else Order(*row)

    def move(
        self,
        order_id: str,
        to_status: str,
        source: str,
        at: float,
        *,
        card: str | None = None,
        payment_ref: str | None = None,
        response_code: str | None = None,
        reason: str | None = None,
    ) -> bool:
        """Move an order forward; False (and nothing written) when it would go backwards."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT status FROM orders WHERE id = ?", (order_id,)
                ).fetchone()
                if row is None or to_status not in FORWARD[row[0]]:
                    self._db.execute("ROLLBACK")
                    return False
                self._db.execute(
                    "UPDATE orders SET status=?, card=COALESCE(?, card),"
                    " payment_ref=COALESCE(?, payment_ref), response_code=?, reason=?, updated=?"
                    " WHERE id=?",
                    (to_status, card, payment_ref, response_code, reason, at, order_id),
                )
                self._db.execute(
                    "INSERT INTO transitions VALUES (?,?,?,?,?)",
                    (order_id, row[0], to_status, source, at),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return True

    def note(self, order_id: str, reason: str) -> None:
        """Say why an order is still pending (no transition)."""
        with self._lock:
            self._db.execute("UPDATE orders SET reason=? WHERE id=?", (reason, order_id))

    def set_payment_ref(self, order_id: str, payment_ref: str) -> None:
        with self._lock:
            self._db.execute("UPDATE orders SET payment_ref=? WHERE id=?", (payment_ref, order_id))

    def first_sighting(self, webhook_id: str, at: float) -> bool:
        """Record a notification id; False if it was seen before (a duplicate delivery)."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO notifications VALUES (?, ?)", (webhook_id, at)
            )
            return cursor.rowcount == 1

    def transitions(self, order_id: str) -> list[tuple[str | None, str, str]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT from_status, to_status, source FROM transitions WHERE order_id=?"
                " ORDER BY rowid",
                (order_id,),
            ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def queue_email(
        self, order_id: str, recipient: str, subject: str, body: str, at: float
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO outbox VALUES (?,?,?,?,?)", (order_id, recipient, subject, body, at)
            )

    def outbox(self) -> list[tuple[str, str, str]]:
        with self._lock:
            rows = self._db.execute("SELECT order_id, recipient, subject FROM outbox").fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def unresolved(self) -> list[tuple[str, str | None]]:
        """Orders still pending, with the reason recorded for them (if any)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, reason FROM orders WHERE status='pending'"
            ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def paid_total(self) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COALESCE(SUM(amount_minor), 0) FROM orders WHERE status='paid'"
            ).fetchone()
        return int(row[0])
