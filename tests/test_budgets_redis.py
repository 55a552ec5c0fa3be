"""Budgets on a real Redis: the store contract, and several OS processes against one budget.

Skipped only when Redis is unreachable and CI is unset; in CI an absent Redis fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from modelrouter.usage.budgets import Budget, BudgetStore, from_nanos
from tests.test_budgets import BOUNDS, FakeClock, StoreContract, StoreFactory

REDIS_URL = (os.environ.get("MODELROUTER_TEST_REDIS_URL") or os.environ.get("MODELROUTER_REDIS_URL")
             or "redis://127.0.0.1:6379/0")
WORKER = Path(__file__).with_name("budget_worker.py")
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def redis_client() -> Iterator[Any]:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {REDIS_URL} is required in CI: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({exc}); set MODELROUTER_REDIS_URL")
    yield client
    client.close()


@pytest.fixture
def prefix(redis_client: Any) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    name = f"mrtest:budget:{uuid.uuid4().hex}:"
    yield name
    keys = list(redis_client.scan_iter(match=name + "*", count=1000))
    if keys:
        redis_client.delete(*keys)


class TestRedisStore(StoreContract):
    @pytest.fixture
    def factory(self, prefix: str) -> Iterator[StoreFactory]:
        from modelrouter.usage.budget_redis import RedisBudgetStore

        opened: list[RedisBudgetStore] = []

        def make(clock: FakeClock | None = None) -> BudgetStore:
            store = RedisBudgetStore.from_url(REDIS_URL, key_prefix=prefix,
                                              clock=clock or FakeClock())
            opened.append(store)
            return store

        yield make
        for store in opened:
            store.close()

    def test_amounts_are_integer_nanodollars(self, factory: StoreFactory, prefix: str,
                                             redis_client: Any) -> None:
        store = factory()
        store.set_budget(Budget("global", "total", D("2.5")))
        held = store.reserve(["global"], D("0.25"), request_id="r")
        assert redis_client.hget(prefix + "defs", "global") == b"total 2500000000 cli"
        assert redis_client.hget(prefix + "amt:global:total", held.id) == b"250000000"
        store.settle(held, D("0.123456789"))
        assert redis_client.get(prefix + "spent:global:total") == b"123456789"
        assert not redis_client.exists(prefix + "amt:global:total")


def _run_workers(prefix: str, client: Any, scope: str, *, workers: int, cycles: int,
                 mode: str) -> list[dict[str, int]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])}
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), REDIS_URL, prefix, scope, str(cycles), str(i),
             mode if mode != "overrun" or i == 0 else "random"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for i in range(workers)
    ]
    try:
        deadline = time.monotonic() + 30
        while int(client.get(prefix + "ready") or 0) < workers:
            assert time.monotonic() < deadline, "workers did not start"
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
            time.sleep(0.01)
        client.rpush(prefix + "go", *["go"] * workers)  # all start at once
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.mark.parametrize("mode", ["random", "full", "overrun"])
def test_processes_never_overspend(redis_client: Any, prefix: str, mode: str) -> None:
    """4 processes × 100 reserve/settle cycles of $0.01 against $1.00, three rounds.

    Settles ≤ reserved: spent ≤ limit; settles = reserved: exactly 100 admitted. One settle
    (in one process) at twice its reservation: spent ≤ limit + that overrun ($0.01)."""
    from modelrouter.usage.budget_redis import RedisBudgetStore

    store = RedisBudgetStore.from_url(REDIS_URL, key_prefix=prefix)
    try:
        for round_ in range(3):
            scope = f"tag:round-{round_}"
            store.set_budget(Budget(scope, "month", D("1.00")))
            results = _run_workers(prefix, redis_client, scope, workers=4, cycles=100,
                                   mode=mode)
            redis_client.delete(prefix + "ready")
            status = store.status(scope)
            assert status is not None
            admitted = sum(r["admitted"] for r in results)
            assert admitted + sum(r["rejected"] for r in results) == 400
            assert sum(r["rejected"] for r in results) > 0, "budget never exhausted"
            assert admitted >= 100
            assert status.spent == from_nanos(sum(r["settled_nanos"] for r in results))
            assert status.reserved == 0
            assert status.spent <= BOUNDS[mode]
            if mode == "full":
                assert admitted == 100 and status.spent == D(1)
    finally:
        store.close()
