"""The usage ledger on real SQLite files and the real PostgreSQL: schema, rows, durability."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from modelrouter.catalog.pricing import Usage
from modelrouter.errors import ConfigError
from modelrouter.routing.records import AttemptRecord
from modelrouter.usage.ledger import (
    DATABASE_URL_ENV,
    Ledger,
    PostgresLedger,
    SqliteLedger,
    open_ledger,
    resolve_url,
)
from modelrouter.usage.migrations import MIGRATIONS
from modelrouter.usage.summary import summarize

PG_URL = os.environ.get("MODELROUTER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
CHILD = Path(__file__).with_name("ledger_crash_child.py")
ALL_MIGRATIONS = [m.name for m in MIGRATIONS]
T0 = datetime(2026, 11, 3, 12, 30, 15, 123456, tzinfo=UTC)


def attempt(i: int = 0, **changes: Any) -> AttemptRecord:
    base = AttemptRecord(
        request_id=f"req-{i}", time=T0 + timedelta(seconds=i), model="openai:gpt-5-mini",
        provider="openai", tier="balanced", outcome="success", fallback_depth=0, free=False,
        usage=Usage(input_tokens=1000, output_tokens=200), cost_usd=Decimal("0.00065"),
        latency_s=0.5, ttft_s=0.125,
    )
    return replace(base, **changes)


# --------------------------------------------------------------------------- fixtures


def _pg_available() -> str | None:
    try:
        import psycopg

        psycopg.connect(PG_URL, connect_timeout=3).close()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def require_postgres() -> None:
    problem = _pg_available()
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL at {PG_URL} is required in CI: {problem}")
    pytest.skip(f"PostgreSQL at {PG_URL} is not reachable: {problem}")


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh schema in the shared test database, dropped afterwards."""
    require_postgres()
    import psycopg

    name = f"ledger_test_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(PG_URL, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


class Backend:
    """Opens ledgers of one dialect at one location, at any prefix of the migrations."""

    def __init__(self, dialect: str, location: str) -> None:
        self.dialect = dialect
        self.location = location  # a file path, or a PostgreSQL schema name

    def open(self, upto: int | None = None) -> Ledger:
        migrations = None if upto is None else MIGRATIONS[:upto]
        if self.dialect == "sqlite":
            return SqliteLedger(self.location, migrations=migrations)
        return PostgresLedger(PG_URL, schema=self.location, migrations=migrations)

    @property
    def url(self) -> str:
        return f"sqlite://{self.location}" if self.dialect == "sqlite" else PG_URL

    @property
    def schema(self) -> str | None:
        return None if self.dialect == "sqlite" else self.location

    def raw(self, ledger: Ledger, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        if self.dialect == "postgresql":
            sql = sql.replace("?", "%s")
        cursor = ledger._connection.execute(sql, params)
        return list(cursor.fetchall()) if cursor.description else []

    def columns(self, ledger: Ledger) -> set[str]:
        if self.dialect == "sqlite":
            return {row[1] for row in self.raw(ledger, "PRAGMA table_info(attempts)")}
        rows = self.raw(ledger, "SELECT column_name FROM information_schema.columns "
                                "WHERE table_schema = ? AND table_name = 'attempts'",
                        (self.location,))
        return {row[0] for row in rows}


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite", str(tmp_path / "ledger" / "usage.db"))
    return Backend("postgresql", request.getfixturevalue("pg_schema"))


# --------------------------------------------------------------------------- migrations


def test_blank_database_gets_every_migration_once(backend: Backend) -> None:
    with backend.open() as ledger:
        assert ledger.migrations() == ALL_MIGRATIONS
        assert {"cache_hit", "saved_usd", "cache_write_tokens", "time", "key"} <= backend.columns(
            ledger)
        ledger.record(attempt())
    with backend.open() as again:  # re-open: nothing re-applied, nothing lost
        assert again.migrations() == ALL_MIGRATIONS
        count = backend.raw(again, "SELECT COUNT(*) FROM migrations")[0][0]
        assert count == len(MIGRATIONS)
        assert again.count() == 1


@pytest.mark.parametrize("upto", range(1, len(MIGRATIONS)))
def test_older_schema_is_migrated_and_keeps_its_rows(backend: Backend, upto: int) -> None:
    with backend.open(upto=upto) as old:
        assert old.migrations() == ALL_MIGRATIONS[:upto]
        assert "saved_usd" not in backend.columns(old) or upto >= 2
        # A row as a release at migration `upto` wrote it: only the first migration's columns.
        when = T0 if backend.dialect == "postgresql" else T0.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        backend.raw(old, (
            "INSERT INTO attempts (time, request_id, key, model, provider, tier, task, outcome,"
            " success, input_tokens, output_tokens, cached_tokens, reasoning_tokens, cost_usd,"
            " latency_ms, ttft_ms, retry, fallback_depth, free, streamed)"
            " VALUES (?, 'old-1', 'team-a', 'openai:gpt-5', 'openai', 'advanced', 'code',"
            " 'success', ?, 10, 20, 0, 0, ?, 1500.0, 300.0, 1, 2, ?, ?)"),
            (when, *_flags(backend, True), "0.0000123", *_flags(backend, False, True)))
    with backend.open() as new:
        assert new.migrations() == ALL_MIGRATIONS
        assert {"cache_hit", "saved_usd", "cache_write_tokens"} <= backend.columns(new)
        [row] = new.records()
        assert row.request_id == "old-1" and row.key == "team-a" and row.task == "code"
        assert row.time == T0 and row.success and row.fallback_depth == 2 and row.retry == 1
        assert row.cost_usd == Decimal("0.0000123") and row.latency_s == 1.5
        assert row.usage == Usage(input_tokens=10, output_tokens=20)
        assert row.streamed and not row.free
        assert row.cache_hit is False and row.saved_usd is None
        new.record(attempt(1, cache_hit=True, saved_usd=Decimal("0.01")))
        assert new.records()[-1].saved_usd == Decimal("0.01")


def _flags(backend: Backend, *values: bool) -> tuple[Any, ...]:
    return tuple(int(v) if backend.dialect == "sqlite" else v for v in values)


# --------------------------------------------------------------------------- rows


def test_every_field_round_trips(backend: Backend) -> None:
    full = AttemptRecord(
        request_id="req-full", time=datetime(2026, 11, 3, 14, 30, 15, 654321,
                                             tzinfo=timezone(timedelta(hours=2))),
        model="anthropic:claude-sonnet-4-5", provider="anthropic", tier="advanced",
        outcome="stream_cut", fallback_depth=2, free=True,
        usage=Usage(input_tokens=5000, output_tokens=700, cached_input_tokens=3000,
                    cache_write_tokens=1000, reasoning_tokens=300),
        cost_usd=Decimal("0.0123456789"), latency_s=2.25, ttft_s=0.375,
        error_class="ProviderConnectionError", error_message="x" * 800, retry=3,
        streamed=True, key="key-7", task="code", cache_hit=True, saved_usd=Decimal("0.5"),
    )
    bare = attempt(1, usage=None, cost_usd=None, ttft_s=None, outcome="error",
                   error_class="RateLimitError", error_message="429")
    with backend.open() as ledger:
        ledger.record(full)
        ledger.record(bare)
        got_full, got_bare = ledger.records()
    assert got_full == replace(full, time=full.time.astimezone(UTC),
                               error_message="x" * 500)
    assert got_full.time.tzinfo is not None and got_full.time.utcoffset() == timedelta(0)
    assert got_full.time == datetime(2026, 11, 3, 12, 30, 15, 654321, tzinfo=UTC)
    assert got_bare == bare and got_bare.usage is None and got_bare.cost_usd is None


def test_ten_thousand_tenths_of_a_microdollar_sum_exactly(backend: Backend) -> None:
    tiny = Decimal("0.0000001")
    with backend.open() as ledger:
        ledger.record_many(attempt(i, cost_usd=tiny) for i in range(10_000))
        rows = ledger.records()
        assert len(rows) == 10_000 and all(r.cost_usd == tiny for r in rows)
        assert sum((r.cost_usd or Decimal(0) for r in rows), Decimal(0)) == Decimal("0.001")
        assert summarize(rows, "model").total.cost_usd == Decimal("0.001")
        if backend.dialect == "postgresql":
            assert backend.raw(ledger, "SELECT SUM(cost_usd) FROM attempts")[0][0] == Decimal(
                "0.001")


def test_range_is_half_open_in_utc(backend: Backend) -> None:
    with backend.open() as ledger:
        ledger.record_many(attempt(i, time=T0 + timedelta(hours=i)) for i in range(5))
        got = ledger.records(T0 + timedelta(hours=1), T0 + timedelta(hours=3))
        assert [r.request_id for r in got] == ["req-1", "req-2"]
        assert ledger.count(since=T0 + timedelta(hours=4)) == 1
        assert ledger.models() == ["openai:gpt-5-mini"]


def test_eight_threads_lose_no_rows(backend: Backend) -> None:
    per_thread = 250
    errors: list[BaseException] = []
    with backend.open() as ledger:

        def work(thread: int) -> None:
            try:
                for i in range(per_thread):
                    ledger.record(attempt(thread * 10_000 + i))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        ids = {r.request_id for r in ledger.records()}
    assert len(ids) == 8 * per_thread


def test_two_sqlite_connections_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    with SqliteLedger(path) as one, SqliteLedger(path) as two:
        one.record(attempt(1))
        two.record(attempt(2))
        assert one.count() == 2
        mode = one._connection.execute("PRAGMA journal_mode").fetchone()[0]
        sync = one._connection.execute("PRAGMA synchronous").fetchone()[0]
    assert (mode, sync) == ("wal", 1)  # 1 = NORMAL


def test_postgres_reconnects_once_after_the_server_drops_it(pg_schema: str) -> None:
    import psycopg

    with PostgresLedger(PG_URL, schema=pg_schema) as ledger:
        ledger.record(attempt(1))
        pid = ledger._connection.info.backend_pid
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        ledger.record(attempt(2))  # must not raise: a fresh connection, same schema
        assert ledger._connection.info.backend_pid != pid
        assert [r.request_id for r in ledger.records()] == ["req-1", "req-2"]


# --------------------------------------------------------------------------- kill -9


def _kill_child(url: str, schema: str | None, count: int, kill_after: int) -> list[int]:
    """Start the child, SIGKILL it once it printed RECORDED <kill_after>; the printed ids."""
    argv = [sys.executable, str(CHILD), url, str(count), *([schema] if schema else [])]
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    printed: list[int] = []
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("RECORDED "):
                printed.append(int(line.split()[1]))
                if printed[-1] == kill_after:
                    break
        os.kill(child.pid, signal.SIGKILL)
        # Read through the same buffered file: lines it already read ahead are kept.
        rest = child.stdout.read()
        err = child.stderr.read() if child.stderr else ""
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL, err
    # Lines already in the pipe when the kill landed were printed after record() returned too.
    printed += [int(x.split()[1]) for x in rest.splitlines() if x.startswith("RECORDED ")]
    assert printed and printed == list(range(len(printed))), err
    return printed


@pytest.mark.parametrize("when", ["after_last", "mid_run"])
def test_kill_9_loses_no_recorded_attempt(backend: Backend, when: str) -> None:
    count = 200
    for round_ in range(5):
        kill_after = count - 1 if when == "after_last" else 20 + round_ * 10
        printed = _kill_child(backend.url, backend.schema, count, kill_after)
        assert printed[-1] >= kill_after
        with backend.open() as ledger:
            stored = {r.request_id for r in ledger.records()}
            assert {f"crash-{i}" for i in printed} <= stored, f"round {round_}"
            # Start each round from an empty table, so a later round proves itself.
            backend.raw(ledger, "DELETE FROM attempts")
            if backend.dialect == "sqlite":
                ledger._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# --------------------------------------------------------------------------- URLs


def test_open_ledger_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    home = Path(os.environ["MODELROUTER_HOME"])
    assert resolve_url() == f"sqlite://{home / 'usage.db'}"  # three slashes: absolute
    with open_ledger() as default:
        assert isinstance(default, SqliteLedger) and default.path == home / "usage.db"
    monkeypatch.setenv(DATABASE_URL_ENV, f"sqlite:///{tmp_path / 'env.db'}")
    with open_ledger() as from_env:
        assert isinstance(from_env, SqliteLedger) and from_env.path == tmp_path / "env.db"
    with open_ledger(str(tmp_path / "plain.db")) as plain:
        assert plain.path == tmp_path / "plain.db"  # type: ignore[attr-defined]
    with open_ledger(f"sqlite:///{tmp_path / 'four.db'}") as four:  # SQLAlchemy's spelling
        assert four.path == tmp_path / "four.db"  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="unsupported scheme 'mysql'"):
        open_ledger("mysql://localhost/db")
    with pytest.raises(ConfigError, match="needs a file path"):
        open_ledger("sqlite://")


def test_postgres_url_opens_postgres(pg_schema: str) -> None:
    with open_ledger(PG_URL.replace("postgresql://", "postgres://"), schema=pg_schema) as led:
        assert isinstance(led, PostgresLedger)
        led.record(attempt())
        assert led.count() == 1


def test_sqlite_file_is_a_plain_sqlite_database(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "u.db") as ledger:
        ledger.record(attempt(cost_usd=Decimal("1E-7")))
    with sqlite3.connect(tmp_path / "u.db") as raw:
        assert raw.execute("SELECT cost_usd, time FROM attempts").fetchone() == (
            "0.0000001", "2026-11-03T12:30:15.123456Z")
