"""Budgets in one SQLite file (WAL): every reserve is one ``BEGIN IMMEDIATE`` transaction.

Money is integer nanodollars (see ``budgets``). The write lock of ``BEGIN IMMEDIATE`` makes the
check and the reservation one atomic step, also for other processes on the same file; within a
process, one connection behind a lock serves every thread.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from modelrouter.errors import BudgetExceededError
from modelrouter.usage.budgets import (
    DEFAULT_KEY_SCOPE,
    Budget,
    BudgetStatus,
    Clock,
    Reservation,
    from_nanos,
    make_status,
    parse_scope,
    resolve_budget,
    seconds_until_reset,
    to_nanos,
    unique_scopes,
    utc_now,
    window_id,
)

__all__ = ["SqliteBudgetStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS budget_definitions (
    scope TEXT PRIMARY KEY,
    period TEXT NOT NULL CHECK (period IN ('day', 'month', 'total')),
    limit_nanos INTEGER NOT NULL CHECK (limit_nanos >= 0),
    source TEXT NOT NULL CHECK (source IN ('config', 'cli')),
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS budget_spend (
    scope TEXT NOT NULL,
    window TEXT NOT NULL,
    spent_nanos INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, window)
);
CREATE TABLE IF NOT EXISTS budget_reservations (
    id TEXT NOT NULL,
    scope TEXT NOT NULL,
    window TEXT NOT NULL,
    amount_nanos INTEGER NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (scope, window, id)
);
"""


class SqliteBudgetStore:
    """``BudgetStore`` on a SQLite file (default ``user_data_dir()/budgets.db``)."""

    def __init__(self, path: str | Path, *, clock: Clock = utc_now, timeout_s: float = 30.0):
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            str(path), timeout=timeout_s, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._transaction() as db:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ----------------------------------------------------------------- definitions

    def set_budget(self, budget: Budget) -> None:
        with self._transaction() as db:
            self._upsert(db, budget)

    def _upsert(self, db: sqlite3.Connection, budget: Budget) -> None:
        db.execute(
            "INSERT INTO budget_definitions (scope, period, limit_nanos, source, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope) DO UPDATE SET period = excluded.period, "
            "limit_nanos = excluded.limit_nanos, source = excluded.source, "
            "updated_at = excluded.updated_at",
            (budget.scope, budget.period, to_nanos(budget.limit_usd), budget.source,
             self._clock().astimezone(UTC).isoformat()),
        )

    def remove_budget(self, scope: str) -> bool:
        with self._transaction() as db:
            cursor = db.execute("DELETE FROM budget_definitions WHERE scope = ?",
                                (parse_scope(scope),))
            return cursor.rowcount > 0

    def budgets(self) -> list[Budget]:
        with self._lock:
            return list(self._definitions(self._db).values())

    def sync_config(self, budgets: Sequence[Budget]) -> None:
        wanted = {b.scope: Budget(b.scope, b.period, b.limit_usd, "config") for b in budgets}
        with self._transaction() as db:
            current = self._definitions(db)
            for scope, budget in wanted.items():
                existing = current.get(scope)
                if existing is None or (existing.source == "config" and existing != budget):
                    self._upsert(db, budget)

    @staticmethod
    def _definitions(db: sqlite3.Connection) -> dict[str, Budget]:
        rows = db.execute(
            "SELECT scope, period, limit_nanos, source FROM budget_definitions ORDER BY scope"
        ).fetchall()
        return {s: Budget(s, p, from_nanos(n), src) for s, p, n, src in rows}

    def _applicable(
        self, db: sqlite3.Connection, scopes: Sequence[str]
    ) -> list[tuple[str, Budget]]:
        wanted = {*scopes, DEFAULT_KEY_SCOPE}
        marks = ",".join("?" * len(wanted))
        rows = db.execute(
            "SELECT scope, period, limit_nanos, source FROM budget_definitions "
            f"WHERE scope IN ({marks})", tuple(wanted),
        ).fetchall()
        defined = {s: Budget(s, p, from_nanos(n), src) for s, p, n, src in rows}
        found = []
        for scope in scopes:
            budget = resolve_budget(scope, defined)
            if budget is not None:
                found.append((scope, budget))
        return found

    # ----------------------------------------------------------------- counters

    def _counters(
        self, db: sqlite3.Connection, scope: str, window: str, now_ts: float
    ) -> tuple[int, int]:
        """(spent, active reserved) nanodollars, dropping expired reservations first."""
        db.execute(
            "DELETE FROM budget_reservations WHERE scope = ? AND window = ? AND expires_at <= ?",
            (scope, window, now_ts),
        )
        (reserved,) = db.execute(
            "SELECT COALESCE(SUM(amount_nanos), 0) FROM budget_reservations "
            "WHERE scope = ? AND window = ?", (scope, window),
        ).fetchone()
        row = db.execute(
            "SELECT spent_nanos FROM budget_spend WHERE scope = ? AND window = ?",
            (scope, window),
        ).fetchone()
        return (row[0] if row else 0), int(reserved)

    def reserve(
        self, scopes: Sequence[str], amount: Decimal, *, request_id: str, ttl_s: float = 300
    ) -> Reservation:
        wanted = unique_scopes(scopes)
        nanos = to_nanos(amount)
        if ttl_s <= 0:
            raise ValueError(f"ttl_s must be > 0, got {ttl_s}")
        reservation_id = f"{request_id}/{uuid.uuid4().hex[:12]}"
        with self._transaction() as db:
            now = self._clock()
            now_ts = now.timestamp()
            held: list[tuple[str, str]] = []
            for scope, budget in self._applicable(db, wanted):
                window = window_id(budget.period, now)
                spent, reserved = self._counters(db, scope, window, now_ts)
                limit = to_nanos(budget.limit_usd)
                if spent + reserved + nanos > limit:
                    # Leaving the block by an exception rolls every earlier insert back.
                    raise BudgetExceededError(
                        scope, budget.limit_usd, from_nanos(spent), from_nanos(reserved),
                        retry_after=seconds_until_reset(budget.period, now),
                    )
                db.execute(
                    "INSERT INTO budget_reservations (id, scope, window, amount_nanos, "
                    "expires_at) VALUES (?, ?, ?, ?, ?)",
                    (reservation_id, scope, window, nanos, now_ts + ttl_s),
                )
                held.append((scope, window))
        return Reservation(
            id=reservation_id, request_id=request_id, amount=from_nanos(nanos),
            windows=tuple(held), expires_at=datetime.fromtimestamp(now_ts + ttl_s, UTC),
        )

    def settle(self, reservation: Reservation, actual: Decimal) -> None:
        self._finish(reservation, to_nanos(actual))

    def release(self, reservation: Reservation) -> None:
        self._finish(reservation, None)

    def _finish(self, reservation: Reservation, spent_nanos: int | None) -> None:
        if not reservation.windows:
            return
        with self._transaction() as db:
            for scope, window in reservation.windows:
                db.execute(
                    "DELETE FROM budget_reservations WHERE scope = ? AND window = ? AND id = ?",
                    (scope, window, reservation.id),
                )
                if spent_nanos is not None:
                    db.execute(
                        "INSERT INTO budget_spend (scope, window, spent_nanos) VALUES (?, ?, ?) "
                        "ON CONFLICT (scope, window) DO UPDATE "
                        "SET spent_nanos = spent_nanos + excluded.spent_nanos",
                        (scope, window, spent_nanos),
                    )

    # ----------------------------------------------------------------- reading

    def _statuses(self, scopes: Sequence[str]) -> list[BudgetStatus]:
        wanted = unique_scopes(scopes)
        with self._transaction() as db:
            now = self._clock()
            found = []
            for scope, budget in self._applicable(db, wanted):
                window = window_id(budget.period, now)
                spent, reserved = self._counters(db, scope, window, now.timestamp())
                found.append(make_status(scope, budget, window, spent, reserved, now))
            return found

    def status(self, scope: str) -> BudgetStatus | None:
        found = self._statuses([scope])
        return found[0] if found else None

    def remaining(self, scopes: Sequence[str]) -> Decimal | None:
        found = self._statuses(scopes)
        return min((s.remaining for s in found), default=None)

