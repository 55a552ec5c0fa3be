"""The ledger's schema: named, append-only migrations recorded in a ``migrations`` table.

Each migration is a function taking a ``Migrator`` (the dialect and a way to run SQL); they are
applied in the order they are defined, each in its own transaction together with the row that
records it, so a database is always at a known prefix of ``MIGRATIONS``. Never edit or reorder
a migration that has shipped: add a new one. The same list serves SQLite and PostgreSQL.

Column conventions: ``time`` is UTC (SQLite: fixed-width ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` text,
which sorts as time does; PostgreSQL: ``TIMESTAMPTZ``); money is exact (SQLite: decimal text,
PostgreSQL: ``NUMERIC(20,10)``); booleans are 0/1 integers in SQLite.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgresql"]


class Migrator(Protocol):
    """What a migration function is given: the dialect, and ``execute`` for one statement."""

    dialect: Dialect

    def execute(self, sql: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    apply: Callable[[Migrator], None]


MIGRATIONS: list[Migration] = []


def migration(function: Callable[[Migrator], None]) -> Callable[[Migrator], None]:
    """Register ``function`` as the next migration, named after it."""
    MIGRATIONS.append(Migration(function.__name__, function))
    return function


# --------------------------------------------------------------------------- the migrations


@migration
def m001_attempts(db: Migrator) -> None:
    sqlite = db.dialect == "sqlite"
    money = "TEXT" if sqlite else "NUMERIC(20, 10)"
    flag = "INTEGER" if sqlite else "BOOLEAN"
    db.execute(f"""
        CREATE TABLE attempts (
            id {"INTEGER PRIMARY KEY" if sqlite else "BIGSERIAL PRIMARY KEY"},
            time {"TEXT" if sqlite else "TIMESTAMPTZ"} NOT NULL,
            request_id TEXT NOT NULL,
            key TEXT,
            model TEXT NOT NULL,
            provider TEXT NOT NULL,
            tier TEXT NOT NULL,
            task TEXT,
            outcome TEXT NOT NULL,
            success {flag} NOT NULL,
            input_tokens INTEGER,
            output_tokens INTEGER,
            cached_tokens INTEGER,
            reasoning_tokens INTEGER,
            cost_usd {money},
            latency_ms DOUBLE PRECISION NOT NULL,
            ttft_ms DOUBLE PRECISION,
            error_class TEXT,
            error_message TEXT,
            retry INTEGER NOT NULL DEFAULT 0,
            fallback_depth INTEGER NOT NULL DEFAULT 0,
            free {flag} NOT NULL,
            streamed {flag} NOT NULL
        )""")
    db.execute("CREATE INDEX attempts_time ON attempts (time)")
    db.execute("CREATE INDEX attempts_model ON attempts (model, time)")
    db.execute("CREATE INDEX attempts_key ON attempts (key, time)")


@migration
def m002_cache_columns(db: Migrator) -> None:
    sqlite = db.dialect == "sqlite"
    flag = "INTEGER NOT NULL DEFAULT 0" if sqlite else "BOOLEAN NOT NULL DEFAULT FALSE"
    db.execute("ALTER TABLE attempts ADD COLUMN cache_write_tokens INTEGER")
    db.execute(f"ALTER TABLE attempts ADD COLUMN cache_hit {flag}")
    money = "TEXT" if sqlite else "NUMERIC(20, 10)"
    db.execute(f"ALTER TABLE attempts ADD COLUMN saved_usd {money}")


@migration
def m003_request_index(db: Migrator) -> None:
    db.execute("CREATE INDEX attempts_request ON attempts (request_id)")


# --------------------------------------------------------------------------- applying them


_CREATE_TABLE = {
    "sqlite": (
        "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    ),
    "postgresql": (
        "CREATE TABLE IF NOT EXISTS migrations "
        "(name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)"
    ),
}


_LOCK = "SELECT pg_advisory_xact_lock(hashtext('modelrouter.ledger'))"


class _Cursorish(Protocol):
    def execute(self, sql: Any, params: Any = ...) -> Any: ...


@dataclass(slots=True)
class _Runner:
    dialect: Dialect
    connection: _Cursorish

    def execute(self, sql: str) -> None:
        self.connection.execute(sql)


def apply_migrations(
    connection: Any, dialect: Dialect, migrations: Sequence[Migration] | None = None
) -> list[str]:
    """Apply the migrations not yet recorded, in order; return the names applied now.

    ``connection`` is a ``sqlite3.Connection`` in autocommit mode (``isolation_level=None``)
    or a ``psycopg.Connection`` with ``autocommit=True``. ``migrations`` (default: all) lets
    tests build a database at an older schema. Safe to call from several processes at once:
    SQLite takes the write lock (``BEGIN IMMEDIATE``), PostgreSQL an advisory lock.
    """
    todo = list(MIGRATIONS if migrations is None else migrations)
    runner = _Runner(dialect, connection)
    applied_now: list[str] = []
    if dialect == "postgresql":
        # Two first openers at once would race on CREATE TABLE IF NOT EXISTS: serialise them.
        connection.execute("BEGIN")
        try:
            connection.execute(_LOCK)
            connection.execute(_CREATE_TABLE[dialect])
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    else:
        connection.execute(_CREATE_TABLE[dialect])
    if {step.name for step in todo} <= set(applied_migrations(connection)):
        return applied_now  # the usual case: nothing to do, no write lock taken
    marker = "?" if dialect == "sqlite" else "%s"
    for step in todo:
        connection.execute("BEGIN IMMEDIATE" if dialect == "sqlite" else "BEGIN")
        try:
            if dialect == "postgresql":
                # Serialises concurrent openers; released at COMMIT / ROLLBACK.
                connection.execute(_LOCK)
            done = connection.execute(
                f"SELECT 1 FROM migrations WHERE name = {marker}", (step.name,)
            ).fetchone()
            if done is None:
                step.apply(runner)
                now = datetime.now(UTC)
                connection.execute(
                    f"INSERT INTO migrations (name, applied_at) VALUES ({marker}, {marker})",
                    (step.name, now.isoformat() if dialect == "sqlite" else now),
                )
                applied_now.append(step.name)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    return applied_now


def applied_migrations(connection: Any) -> list[str]:
    """The names recorded in the ``migrations`` table, in the order they were applied."""
    rows = connection.execute("SELECT name FROM migrations ORDER BY applied_at, name").fetchall()
    return [row[0] for row in rows]
