"""The usage ledger: one row per attempt, written synchronously and durably by ``record()``.

``open_ledger()`` picks the store: an explicit URL, else ``MODELROUTER_DATABASE_URL``, else
SQLite at ``user_data_dir()/usage.db``. URLs: ``sqlite:///abs/path.db`` (or a plain file path)
and ``postgresql://user@host:port/db``.

Durability: ``record()`` returns only after its row is committed, so a response handed to the
caller after ``record()`` returned survives a ``kill -9`` of the process. SQLite runs in WAL mode
with ``synchronous=NORMAL``: a commit is in the WAL file (the OS has it) when ``record()``
returns, which survives the process dying but not an OS crash or power loss, where the last
commits may be lost (never corrupted); ``synchronous=FULL`` would fsync every row. PostgreSQL
commits each row (autocommit), so its own durability settings apply.

One connection per ledger, guarded by a lock: ``record()`` is safe from many threads. A
PostgreSQL connection that dropped is reopened once per call; if the drop happened after the
server committed, that row can be stored twice (rare, and visible as a duplicate row).
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote

from modelrouter.catalog.pricing import Usage
from modelrouter.errors import ConfigError
from modelrouter.routing.records import AttemptRecord
from modelrouter.usage.migrations import (
    MIGRATIONS,
    Dialect,
    Migration,
    applied_migrations,
    apply_migrations,
)

DATABASE_URL_ENV = "MODELROUTER_DATABASE_URL"
DEFAULT_FILE_NAME = "usage.db"
ERROR_MESSAGE_MAX_CHARS = 500
BUSY_TIMEOUT_MS = 5000

COLUMNS: tuple[str, ...] = (
    "time", "request_id", "key", "model", "provider", "tier", "task", "outcome", "success",
    "input_tokens", "output_tokens", "cached_tokens", "cache_write_tokens", "reasoning_tokens",
    "cost_usd", "latency_ms", "ttft_ms", "error_class", "error_message", "retry",
    "fallback_depth", "free", "streamed", "cache_hit", "saved_usd",
)
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

Moment = datetime | date


def as_utc(moment: Moment) -> datetime:
    """A UTC-aware datetime: a date is its midnight UTC; a naive datetime is taken as UTC."""
    if not isinstance(moment, datetime):
        return datetime.combine(moment, time(0), tzinfo=UTC)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _sqlite_time(moment: datetime) -> str:
    # Fixed width, so text order is time order and range queries use the index.
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _money_text(amount: Decimal | None) -> str | None:
    return None if amount is None else format(amount, "f")


class Ledger:
    """The ledger: a ``UsageSink`` that stores every attempt, and the rows to summarise.

    Subclasses bind a dialect: ``SqliteLedger`` and ``PostgresLedger``. Use ``open_ledger()``.
    """

    dialect: Dialect
    url: str

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connection: Any = None

    # ----------------------------------------------------------------- writing

    def record(self, record: AttemptRecord) -> None:
        """Store one attempt; returns once the row is committed (one INSERT, autocommit)."""
        self._write(self._insert_sql, [self._params(record)])

    def record_many(self, records: Iterable[AttemptRecord]) -> None:
        """Store several attempts in one transaction (imports, tests, benchmarks)."""
        rows = [self._params(r) for r in records]
        if rows:
            self._write(self._insert_sql, rows)

    def _params(self, record: AttemptRecord) -> tuple[Any, ...]:
        usage = record.usage
        message = record.error_message
        if message is not None and len(message) > ERROR_MESSAGE_MAX_CHARS:
            message = message[:ERROR_MESSAGE_MAX_CHARS]
        return (
            self._time_param(record.time), record.request_id, record.key, record.model,
            record.provider, record.tier, record.task, record.outcome,
            self._flag(record.success),
            usage.input_tokens if usage else None,
            usage.output_tokens if usage else None,
            usage.cached_input_tokens if usage else None,
            usage.cache_write_tokens if usage else None,
            usage.reasoning_tokens if usage else None,
            self._money(record.cost_usd),
            record.latency_s * 1000.0,
            None if record.ttft_s is None else record.ttft_s * 1000.0,
            record.error_class, message, record.retry, record.fallback_depth,
            self._flag(record.free), self._flag(record.streamed), self._flag(record.cache_hit),
            self._money(record.saved_usd),
        )

    # ----------------------------------------------------------------- reading

    def records(
        self, since: Moment | None = None, until: Moment | None = None
    ) -> list[AttemptRecord]:
        """The attempts with ``since <= time < until`` (UTC), oldest first."""
        where, params = self._range(since, until)
        sql = f"SELECT {', '.join(COLUMNS)} FROM attempts{where} ORDER BY time, id"
        return [self._to_record(row) for row in self._query(sql, params)]

    def count(self, since: Moment | None = None, until: Moment | None = None) -> int:
        where, params = self._range(since, until)
        return int(self._query(f"SELECT COUNT(*) FROM attempts{where}", params)[0][0])

    def models(self) -> list[str]:
        """Every model with at least one recorded attempt, sorted."""
        return sorted(row[0] for row in self._query("SELECT DISTINCT model FROM attempts", ()))

    def migrations(self) -> list[str]:
        """The migrations recorded in this database, in the order they were applied."""
        with self._lock:
            return applied_migrations(self._connection)

    def _range(self, since: Moment | None, until: Moment | None) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        marker = "?" if self.dialect == "sqlite" else "%s"
        if since is not None:
            clauses.append(f"time >= {marker}")
            params.append(self._time_param(as_utc(since)))
        if until is not None:
            clauses.append(f"time < {marker}")
            params.append(self._time_param(as_utc(until)))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def _to_record(self, row: Sequence[Any]) -> AttemptRecord:
        values = dict(zip(COLUMNS, row, strict=True))
        tokens = ("input_tokens", "output_tokens", "cached_tokens", "cache_write_tokens",
                  "reasoning_tokens")
        usage = None
        if any(values[name] is not None for name in tokens):
            usage = Usage(
                input_tokens=values["input_tokens"] or 0,
                output_tokens=values["output_tokens"] or 0,
                cached_input_tokens=values["cached_tokens"] or 0,
                cache_write_tokens=values["cache_write_tokens"] or 0,
                reasoning_tokens=values["reasoning_tokens"] or 0,
            )
        ttft = values["ttft_ms"]
        return AttemptRecord(
            request_id=values["request_id"], time=self._read_time(values["time"]),
            model=values["model"], provider=values["provider"], tier=values["tier"],
            outcome=values["outcome"], fallback_depth=values["fallback_depth"],
            free=bool(values["free"]), usage=usage, cost_usd=_decimal(values["cost_usd"]),
            latency_s=values["latency_ms"] / 1000.0,
            ttft_s=None if ttft is None else ttft / 1000.0,
            error_class=values["error_class"], error_message=values["error_message"],
            retry=values["retry"], streamed=bool(values["streamed"]), key=values["key"],
            task=values["task"], cache_hit=bool(values["cache_hit"]),
            saved_usd=_decimal(values["saved_usd"]),
        )

    # ----------------------------------------------------------------- lifecycle

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    # ----------------------------------------------------------------- per dialect

    @property
    def _insert_sql(self) -> str:
        marker = "?" if self.dialect == "sqlite" else "%s"
        return (f"INSERT INTO attempts ({', '.join(COLUMNS)}) "
                f"VALUES ({', '.join([marker] * len(COLUMNS))})")

    def _write(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def _query(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        raise NotImplementedError

    def _time_param(self, moment: datetime) -> Any:
        raise NotImplementedError

    def _read_time(self, value: Any) -> datetime:
        raise NotImplementedError

    def _flag(self, value: bool) -> Any:
        return value

    def _money(self, amount: Decimal | None) -> Any:
        return amount


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(value)


class SqliteLedger(Ledger):
    """The default store: one SQLite file, WAL, ``synchronous=NORMAL``, busy timeout."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: str | Path, *, migrations: Sequence[Migration] | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        self.url = sqlite_url(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False,
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
        try:
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            apply_migrations(connection, "sqlite", migrations)
        except BaseException:
            connection.close()
            raise
        self._connection = connection

    def _write(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        with self._lock:
            connection = self._open()
            if len(rows) == 1:
                connection.execute(sql, rows[0])  # autocommit: one row, one transaction
                return
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.executemany(sql, rows)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        with self._lock:
            return list(self._open().execute(sql, params).fetchall())

    def _open(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ConfigError(f"the ledger {self.url} is closed")
        connection: sqlite3.Connection = self._connection
        return connection

    def _time_param(self, moment: datetime) -> str:
        return _sqlite_time(moment)

    def _read_time(self, value: Any) -> datetime:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)

    def _flag(self, value: bool) -> int:
        return 1 if value else 0

    def _money(self, amount: Decimal | None) -> str | None:
        return _money_text(amount)


class PostgresLedger(Ledger):
    """PostgreSQL via psycopg 3: one autocommit connection behind a lock, reopened on a drop.

    ``schema`` (created if missing) isolates a ledger inside a shared database: tests, tenants.
    """

    dialect: Dialect = "postgresql"

    def __init__(
        self, url: str, *, schema: str | None = None,
        migrations: Sequence[Migration] | None = None, connect_timeout_s: int = 5,
    ) -> None:
        super().__init__()
        if schema is not None and not _SCHEMA_NAME.match(schema):
            raise ConfigError(f"schema {schema!r} is not a plain SQL identifier")
        self.url = url
        self.schema = schema
        self._connect_timeout_s = connect_timeout_s
        self._connection = self._connect()
        try:
            apply_migrations(self._connection, "postgresql", migrations)
        except BaseException:
            self._connection.close()
            raise

    def _connect(self) -> Any:
        try:
            import psycopg
        except ImportError:  # pragma: no cover - the extra is a declared dependency
            raise ConfigError(
                "a postgresql:// ledger needs psycopg: pip install 'modelrouter[postgres]'"
            ) from None
        connection = psycopg.connect(
            self.url, autocommit=True, connect_timeout=self._connect_timeout_s
        )
        if self.schema is not None:
            connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            connection.execute(f'SET search_path TO "{self.schema}"')
        return connection

    def _write(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        with self._lock:
            self._with_reconnect(lambda c: self._insert(c, sql, rows))

    @staticmethod
    def _insert(connection: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if len(rows) == 1:
            connection.execute(sql, rows[0])
            return
        with connection.transaction(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)

    def _query(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        with self._lock:
            result: list[Sequence[Any]] = self._with_reconnect(
                lambda c: c.execute(sql, params).fetchall()
            )
            return result

    def _with_reconnect(self, action: Any) -> Any:
        import psycopg

        if self._connection is None:
            raise ConfigError(f"the ledger {self.url} is closed")
        try:
            return action(self._connection)
        except psycopg.OperationalError:
            if not (self._connection.broken or self._connection.closed):
                raise
        # The server went away (restart, idle kill, failover): one fresh connection, one retry.
        self._connection.close()
        self._connection = self._connect()
        return action(self._connection)

    def _time_param(self, moment: datetime) -> datetime:
        return as_utc(moment)

    def _read_time(self, value: Any) -> datetime:
        moment: datetime = value
        return moment.astimezone(UTC)


def resolve_url(url: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The ledger URL in effect: ``url``, else the env var, else the default SQLite file."""
    env = os.environ if environ is None else environ
    chosen = url or env.get(DATABASE_URL_ENV) or None
    if chosen:
        return chosen
    from modelrouter.paths import user_data_dir

    return sqlite_url(user_data_dir() / DEFAULT_FILE_NAME)


def sqlite_url(path: str | Path) -> str:
    """``sqlite://`` + the path: ``sqlite:///abs/usage.db`` for an absolute one."""
    return f"sqlite://{path}"


def open_ledger(url: str | None = None, *, schema: str | None = None) -> Ledger:
    """Open (creating and migrating as needed) the ledger at ``url``; see ``resolve_url``.

    ``sqlite:///abs/path.db`` (``sqlite:////abs/path.db`` too), ``sqlite://relative.db`` or a
    plain path opens SQLite; ``postgresql://…`` (or
    ``postgres://…``) opens PostgreSQL, in ``schema`` if given.
    """
    chosen = resolve_url(url)
    scheme, sep, rest = chosen.partition("://")
    if not sep:
        return SqliteLedger(Path(chosen).expanduser())
    scheme = scheme.lower()
    if scheme == "sqlite":
        path = unquote(rest.split("?", 1)[0])
        if path.startswith("//"):  # sqlite:////abs/path, SQLAlchemy's spelling
            path = "/" + path.lstrip("/")
        if not path or path in ("/", "/:memory:", ":memory:"):
            raise ConfigError(f"ledger URL {chosen!r} needs a file path: sqlite:///path/usage.db")
        return SqliteLedger(Path(path).expanduser())
    if scheme in ("postgresql", "postgres"):
        return PostgresLedger(chosen, schema=schema)
    raise ConfigError(
        f"ledger URL {chosen!r}: unsupported scheme {scheme!r}; "
        "use sqlite:///path/usage.db or postgresql://user@host/db",
        key=DATABASE_URL_ENV if url is None else None,
    )


__all__ = [
    "COLUMNS",
    "DATABASE_URL_ENV",
    "MIGRATIONS",
    "Ledger",
    "PostgresLedger",
    "SqliteLedger",
    "as_utc",
    "open_ledger",
    "resolve_url",
    "sqlite_url",
]
