"""Budget benchmarks, run by hand: `python benchmarks/bench_budgets.py [--json] [--samples N]`.

The reserve + settle round trip (two calls: the reservation before a provider call and the
settlement after it) against global + key + team budgets, p50 and p99, on SQLite (a temporary
file, WAL) and on Redis (``MODELROUTER_REDIS_URL`` or redis://127.0.0.1:6379/0, a throw-away
key prefix deleted afterwards). Redis is skipped with a note when it is not reachable.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from decimal import Decimal
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from modelrouter.usage.budgets import Budget, BudgetStore, open_budget_store

SCOPES = ("global", "key:bench", "team:bench")
AMOUNT = Decimal("0.0042")


def _round_trips(store: BudgetStore, samples: int) -> dict[str, float]:
    store.set_budget(Budget("global", "month", Decimal("9000000")))
    store.set_budget(Budget("key:*", "day", Decimal("9000000")))
    store.set_budget(Budget("team:bench", "total", Decimal("9000000")))
    for i in range(min(200, samples)):  # warm up: connections, script cache, page cache
        store.settle(store.reserve(SCOPES, AMOUNT, request_id=f"warm-{i}"), AMOUNT)
    times = []
    for i in range(samples):
        start = time.perf_counter_ns()
        held = store.reserve(SCOPES, AMOUNT, request_id=f"req-{i}")
        store.settle(held, Decimal("0.0031"))
        times.append((time.perf_counter_ns() - start) / 1000)
    times.sort()
    return {
        "samples": samples,
        "p50_us": round(statistics.median(times), 1),
        "p99_us": round(times[int(len(times) * 0.99) - 1], 1),
        "round_trips_per_s": round(1e6 / statistics.mean(times)),
    }


def bench_sqlite(samples: int) -> dict[str, float]:
    with TemporaryDirectory() as folder:
        store = open_budget_store(f"sqlite:///{Path(folder) / 'budgets.db'}")
        try:
            return _round_trips(store, samples)
        finally:
            store.close()


def bench_redis(samples: int) -> dict[str, Any]:
    url = os.environ.get("MODELROUTER_REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        import redis

        client = redis.Redis.from_url(url)
        client.ping()
    except Exception as exc:
        return {"skipped": f"Redis not reachable at {url}: {exc}"}
    prefix = f"modelrouter:bench:{uuid.uuid4().hex}:"
    store = open_budget_store(url, key_prefix=prefix)
    try:
        return _round_trips(store, samples)
    finally:
        store.close()
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--json", action="store_true", help="Print JSON for scripts.")
    args = parser.parse_args()
    results = {"sqlite": bench_sqlite(args.samples), "redis": bench_redis(args.samples)}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"reserve+settle round trip over {len(SCOPES)} scopes ({args.samples} samples)")
    for name, figures in results.items():
        if "skipped" in figures:
            print(f"  {name:<7} skipped: {figures['skipped']}")
            continue
        print(f"  {name:<7} p50 {figures['p50_us']:>8.1f} µs   p99 {figures['p99_us']:>8.1f} µs"
              f"   {figures['round_trips_per_s']:>6} round trips/s")


if __name__ == "__main__":
    main()
