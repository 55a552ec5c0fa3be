"""Budgets: the pure window/limit rules, the store contract (run here on SQLite, on Redis in
test_budgets_redis.py) and the single-process concurrency guarantee."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from modelrouter.errors import BudgetExceededError
from modelrouter.usage.budgets import (
    Budget,
    BudgetStore,
    budgets_from_config,
    from_nanos,
    open_budget_store,
    parse_limit,
    parse_scope,
    percent_used,
    seconds_until_reset,
    to_nanos,
    window_end,
    window_id,
)

# --------------------------------------------------------------------------- pure rules


@pytest.mark.parametrize(
    ("text", "scope"),
    [("global", "global"), (" GLOBAL ", "global"), ("key:abc-123", "key:abc-123"),
     ("Team:research", "team:research"), ("tag:batch.jobs", "tag:batch.jobs"),
     ("key:*", "key:*"), ("key:user@example.com", "key:user@example.com")],
)
def test_parse_scope_accepts(text: str, scope: str) -> None:
    assert parse_scope(text) == scope


@pytest.mark.parametrize(
    "text", ["", "globals", "key:", "user:bob", "key:a b", "team:*", "tag:x|y", "key"]
)
def test_parse_scope_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid budget scope"):
        parse_scope(text)


@pytest.mark.parametrize(
    ("period", "now", "window", "end"),
    [
        ("day", "2026-11-25T13:45:00+00:00", "2026-11-25", "2026-11-26T00:00:00+00:00"),
        ("day", "2026-11-25T23:30:00-05:00", "2026-11-26", "2026-11-27T00:00:00+00:00"),
        ("month", "2026-11-25T13:45:00+00:00", "2026-11", "2026-12-01T00:00:00+00:00"),
        ("month", "2026-12-31T23:59:59+00:00", "2026-12", "2027-01-01T00:00:00+00:00"),
        ("day", "2028-02-28T12:00:00+00:00", "2028-02-28", "2028-02-29T00:00:00+00:00"),
        ("total", "2026-11-25T13:45:00+00:00", "total", None),
    ],
)
def test_windows_are_utc_calendar_periods(
    period: str, now: str, window: str, end: str | None
) -> None:
    moment = datetime.fromisoformat(now)
    assert window_id(period, moment) == window  # type: ignore[arg-type]
    expected = None if end is None else datetime.fromisoformat(end)
    assert window_end(period, moment) == expected  # type: ignore[arg-type]


def test_retry_after_is_seconds_to_rollover() -> None:
    now = datetime(2026, 11, 30, 23, 59, 30, tzinfo=UTC)
    assert seconds_until_reset("day", now) == 30.0
    assert seconds_until_reset("month", now) == 30.0
    assert seconds_until_reset("total", now) is None
    with pytest.raises(ValueError, match="timezone-aware"):
        window_id("day", datetime(2026, 1, 1))


def test_money_is_exact_nanodollars_rounded_up() -> None:
    assert to_nanos(D("0.01")) == 10_000_000
    assert to_nanos(D("0.0000000001")) == 1  # never under-count spend
    assert to_nanos(D("1.0000000010")) == 1_000_000_001
    assert from_nanos(1_000_000_000) == D(1) and str(from_nanos(1_000_000_000)) == "1"
    assert from_nanos(1) == D("0.000000001")
    assert str(from_nanos(2_500_000_000)) == "2.5"
    with pytest.raises(ValueError):
        to_nanos(D("-0.01"))
    with pytest.raises(ValueError):
        to_nanos(D("NaN"))


def test_limits_are_validated() -> None:
    assert parse_limit("12.5") == D("12.5")
    for bad in ("-1", "abc", "0.0000000001", "9000000.01"):
        with pytest.raises(ValueError):
            parse_limit(bad)
    with pytest.raises(ValueError):
        Budget("global", "week", D(1))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Budget("nobody", "month", D(1))


def test_percent_used() -> None:
    assert percent_used(D("0.8"), D("1")) == D("80.00")
    assert percent_used(D("0"), D("0")) == D("0.00")
    assert percent_used(D("0.01"), D("0")) == D("100.00")


def test_budgets_from_config_reads_the_seed_env(tmp_path: Path) -> None:
    from modelrouter.config import load_config

    env = {"AI_MONTHLY_BUDGET": "50", "DEFAULT_BUDGET": "$5.25", "MODELROUTER_HOME": str(tmp_path)}
    config = load_config(environ=env)
    assert budgets_from_config(config) == [
        Budget("global", "month", D(50), source="config"),
        Budget("key:*", "month", D("5.25"), source="config"),
    ]
    assert budgets_from_config(load_config(environ={"MODELROUTER_HOME": str(tmp_path)})) == []


def test_open_budget_store_chooses_by_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from modelrouter.usage.budget_sqlite import SqliteBudgetStore

    monkeypatch.delenv("MODELROUTER_REDIS_URL", raising=False)
    default = open_budget_store(None)
    assert isinstance(default, SqliteBudgetStore)
    assert default.path == Path(os.environ["MODELROUTER_HOME"]) / "budgets.db"
    default.close()
    explicit = open_budget_store(f"sqlite:///{tmp_path / 'b.db'}")
    assert isinstance(explicit, SqliteBudgetStore) and explicit.path == tmp_path / "b.db"
    explicit.close()
    with pytest.raises(ValueError, match="unsupported"):
        open_budget_store("postgresql://localhost/x")


# --------------------------------------------------------------------------- the store contract


class FakeClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now if self.now is not None else datetime.now(UTC)


StoreFactory = Callable[..., BudgetStore]


class StoreContract:
    """Behaviour every BudgetStore must have; subclasses provide the ``factory`` fixture."""

    @pytest.fixture
    def store(self, factory: StoreFactory) -> BudgetStore:
        return factory()

    def test_admits_until_the_limit_then_names_the_scope(self, store: BudgetStore) -> None:
        store.set_budget(Budget("global", "month", D("1.00")))
        first = store.reserve(["global"], D("0.60"), request_id="r1")
        second = store.reserve(["global"], D("0.40"), request_id="r2")  # exactly the limit
        with pytest.raises(BudgetExceededError) as caught:
            store.reserve(["global"], D("0.000000001"), request_id="r3")
        err = caught.value
        assert (err.scope, err.limit, err.spent, err.reserved) == ("global", D(1), D(0), D(1))
        assert err.retry_after is not None and 0 < err.retry_after <= 31 * 86400
        store.settle(first, D("0.50"))
        store.release(second)
        status = store.status("global")
        assert status is not None
        assert (status.spent, status.reserved, status.remaining) == (D("0.5"), D(0), D("0.5"))
        assert status.percent_used == D("50.00") and status.period == "month"

    def test_all_scopes_or_none(self, store: BudgetStore) -> None:
        store.set_budget(Budget("global", "month", D("10")))
        store.set_budget(Budget("key:a", "day", D("1")))
        store.set_budget(Budget("team:t", "total", D("0.5")))
        store.reserve(["global", "key:a"], D("0.6"), request_id="ok")
        with pytest.raises(BudgetExceededError) as caught:
            store.reserve(["global", "key:a"], D("0.6"), request_id="over")
        assert caught.value.scope == "key:a" and caught.value.reserved == D("0.6")
        glob = store.status("global")
        assert glob is not None and glob.reserved == D("0.6")  # nothing left behind
        # Both key:a and team:t would overflow: the first one in the request's order is named.
        with pytest.raises(BudgetExceededError) as caught:
            store.reserve(["global", "team:t", "key:a"], D("0.7"), request_id="x")
        assert caught.value.scope == "team:t" and caught.value.retry_after is None
        assert store.remaining(["global", "key:a", "team:t"]) == D("0.4")
        assert store.remaining(["tag:none"]) is None

    def test_settle_counts_the_actual_cost_even_above_the_reservation(
        self, store: BudgetStore
    ) -> None:
        store.set_budget(Budget("global", "total", D("1")))
        held = store.reserve(["global"], D("0.50"), request_id="r")
        store.reserve(["global"], D("0.50"), request_id="full")
        store.settle(held, D("0.75"))
        status = store.status("global")
        assert status is not None
        assert (status.spent, status.reserved, status.remaining) == (D("0.75"), D("0.5"), D(0))
        with pytest.raises(BudgetExceededError):
            store.reserve(["global"], D(0), request_id="free")

    def test_default_key_budget_is_per_key(self, store: BudgetStore) -> None:
        store.sync_config([Budget("key:*", "month", D("1"), source="config")])
        store.set_budget(Budget("key:vip", "month", D("5")))
        store.reserve(["key:a"], D("1"), request_id="a")
        store.reserve(["key:b"], D("1"), request_id="b")  # b has its own counters
        store.reserve(["key:vip"], D("3"), request_id="vip")
        with pytest.raises(BudgetExceededError) as caught:
            store.reserve(["key:a"], D("0.01"), request_id="a2")
        assert caught.value.scope == "key:a"
        status = store.status("key:b")
        assert status is not None and status.budget_scope == "key:*"
        with pytest.raises(ValueError):
            store.reserve(["key:*"], D("1"), request_id="template")

    def test_no_budget_means_no_limit(self, store: BudgetStore) -> None:
        held = store.reserve(["key:a", "tag:x"], D("1000"), request_id="r")
        assert held.windows == ()
        store.settle(held, D("1000"))
        assert store.status("key:a") is None and store.remaining(["key:a"]) is None

    def test_reservation_of_a_dead_process_expires(self, store: BudgetStore) -> None:
        store.set_budget(Budget("global", "day", D("1")))
        store.reserve(["global"], D("1"), request_id="dies", ttl_s=0.2)
        with pytest.raises(BudgetExceededError):
            store.reserve(["global"], D("0.5"), request_id="blocked")
        time.sleep(0.35)
        status = store.status("global")
        assert status is not None and status.reserved == D(0)
        store.reserve(["global"], D("1"), request_id="after")

    def test_window_rolls_over(self, factory: StoreFactory) -> None:
        clock = FakeClock(datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC))
        store = factory(clock=clock)
        store.set_budget(Budget("global", "day", D("1")))
        store.set_budget(Budget("team:t", "month", D("2")))
        store.settle(store.reserve(["global", "team:t"], D("1"), request_id="r"), D("1"))
        with pytest.raises(BudgetExceededError) as caught:
            store.reserve(["global", "team:t"], D("0.5"), request_id="r2")
        assert caught.value.retry_after == 1.0
        clock.now = datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC)
        status = store.status("team:t")
        assert status is not None and (status.window, status.spent) == ("2026-12", D(0))
        store.reserve(["global", "team:t"], D("1"), request_id="r3")

    def test_definitions_are_shared_and_cli_wins_over_config(self, factory: StoreFactory) -> None:
        first, second = factory(), factory()
        first.sync_config([Budget("global", "month", D("50"), source="config")])
        assert second.budgets() == [Budget("global", "month", D(50), source="config")]
        second.set_budget(Budget("global", "day", D("3")))
        first.sync_config([Budget("global", "month", D("60"), source="config")])
        assert first.budgets() == [Budget("global", "day", D(3), source="cli")]
        first.settle(first.reserve(["global"], D("1"), request_id="r"), D("1"))
        status = second.status("global")
        assert status is not None and status.spent == D(1)
        assert second.remove_budget("global") and not second.remove_budget("global")
        assert first.budgets() == []

    def test_spend_is_exact(self, store: BudgetStore) -> None:
        store.set_budget(Budget("global", "total", D("1")))
        for i in range(10):
            store.settle(store.reserve(["global"], D("0.1"), request_id=f"r{i}"), D("0.1"))
        store.settle(store.reserve(["global"], D(0), request_id="z"), D("0.0000000001"))
        status = store.status("global")
        assert status is not None and status.spent == D("1.000000001")

    def test_rejects_bad_input(self, store: BudgetStore) -> None:
        with pytest.raises(ValueError):
            store.reserve(["global"], D("-1"), request_id="neg")
        with pytest.raises(ValueError):
            store.reserve(["nobody"], D("1"), request_id="scope")

    @pytest.mark.parametrize("mode", ["random", "full", "overrun"])
    def test_threads_never_overspend(self, factory: StoreFactory, mode: str) -> None:
        """random: actual ≤ reserved → spent ≤ limit; full: actual = reserved → exactly 100
        admitted; overrun: one settle at twice its reservation → spent ≤ limit + $0.01."""
        for round_ in range(3):
            store = factory()
            scope = f"tag:{mode}-{round_}"
            store.set_budget(Budget(scope, "month", D("1.00")))
            settled, rejected = asyncio.run(_hammer(store, scope, mode))
            _assert_bounded(store, scope, settled, rejected, mode)


AMOUNT = D("0.01")


def settle_amount(mode: str, rng: random.Random, first: bool) -> D:
    """What a request settles: random ≤ reserved, exactly reserved, or (once) twice it."""
    if mode == "full" or (mode == "overrun" and first):
        return AMOUNT * (2 if mode == "overrun" else 1)
    return D(rng.randint(0, 10_000_000)).scaleb(-9)


BOUNDS = {"random": D("1.00"), "full": D("1.00"), "overrun": D("1.01")}


async def _hammer(store: BudgetStore, scope: str, mode: str) -> tuple[list[D], int]:
    """200 tasks on 16 threads reserve $0.01 each against the budget, then settle."""
    loop = asyncio.get_running_loop()
    settled: list[D] = []
    rejected = 0
    rng = random.Random(7)
    start = asyncio.Event()

    async def one(i: int) -> None:
        nonlocal rejected
        await start.wait()
        try:
            held = await loop.run_in_executor(
                pool, lambda: store.reserve(["global", scope], AMOUNT, request_id=f"req-{i}")
            )
        except BudgetExceededError as exc:
            assert exc.scope == scope
            rejected += 1
            return
        await asyncio.sleep(rng.random() / 1000)
        actual = settle_amount(mode, rng, first=not settled)
        settled.append(actual)
        await loop.run_in_executor(pool, store.settle, held, actual)

    with ThreadPoolExecutor(max_workers=16) as pool:
        tasks = [asyncio.create_task(one(i)) for i in range(200)]
        start.set()
        await asyncio.gather(*tasks)
    return settled, rejected


def _assert_bounded(
    store: BudgetStore, scope: str, settled: list[D], rejected: int, mode: str
) -> None:
    status = store.status(scope)
    assert status is not None
    assert len(settled) + rejected == 200
    assert rejected > 0, "the budget was never exhausted: the test proves nothing"
    assert len(settled) >= 100  # a refusal needs > $0.99 held or spent, in ≤ $0.01 pieces
    assert status.spent == sum(settled, D(0))  # exactly the admitted ones, exactly
    assert status.reserved == 0
    assert status.spent <= BOUNDS[mode]
    if mode == "full":  # no slack at all: one request too many would show here
        assert len(settled) == 100 and status.spent == D(1)


class TestSqliteStore(StoreContract):
    @pytest.fixture
    def factory(self, tmp_path: Path) -> Iterator[StoreFactory]:
        from modelrouter.usage.budget_sqlite import SqliteBudgetStore

        opened: list[SqliteBudgetStore] = []
        counter = iter(range(1000))
        shared = tmp_path / "budgets.db"

        def make(clock: FakeClock | None = None, fresh: bool = False) -> BudgetStore:
            path = tmp_path / f"b{next(counter)}.db" if fresh else shared
            store = SqliteBudgetStore(path, clock=clock or FakeClock())
            opened.append(store)
            return store

        yield make
        for store in opened:
            store.close()

    def test_file_uses_wal(self, factory: StoreFactory, tmp_path: Path) -> None:
        import sqlite3

        factory()
        with sqlite3.connect(tmp_path / "budgets.db") as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
