"""Ledger write cost: records/s and the latency ``record()`` adds to a request.

    .venv/bin/python benchmarks/bench_ledger.py [--sqlite-records 20000] [--pg-records 2000]
        [--pg-url postgresql://postgres@127.0.0.1:5432/test]

Sequential ``record()`` calls, each one INSERT committed before it returns (what the router
does per attempt). PostgreSQL runs in a throwaway schema, dropped at the end; it is skipped
with a note when the server cannot be reached. Target: ≥ 5,000 records/s on SQLite.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from modelrouter.catalog.pricing import Usage
from modelrouter.routing.records import AttemptRecord
from modelrouter.usage.ledger import Ledger, PostgresLedger, SqliteLedger


def records(count: int) -> list[AttemptRecord]:
    now = datetime.now(UTC)
    return [
        AttemptRecord(
            request_id=uuid.uuid4().hex, time=now, model="openai:gpt-5-mini", provider="openai",
            tier="balanced", outcome="success", fallback_depth=i % 2, free=False,
            usage=Usage(input_tokens=1200, output_tokens=300, cached_input_tokens=200),
            cost_usd=Decimal("0.000845"), latency_s=0.42, ttft_s=0.11, key="team-a",
            task="chat",
        )
        for i in range(count)
    ]


def nearest_rank(sorted_values: list[float], p: float) -> float:
    return sorted_values[max(1, math.ceil(p / 100 * len(sorted_values))) - 1]


def measure(name: str, ledger: Ledger, count: int) -> None:
    batch = records(count)
    for record in batch[:50]:  # warm up: statement cache, WAL file, server plan
        ledger.record(record)
    per_call: list[float] = []
    started = time.perf_counter()
    for record in batch:
        t0 = time.perf_counter()
        ledger.record(record)
        per_call.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    per_call.sort()
    print(
        f"{name:<11} {count:>7,} records  {count / elapsed:>9,.0f} records/s  "
        f"record() p50 {nearest_rank(per_call, 50) * 1e6:>7.1f} µs  "
        f"p99 {nearest_rank(per_call, 99) * 1e6:>7.1f} µs  max {per_call[-1] * 1e6:>8.1f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-records", type=int, default=20_000)
    parser.add_argument("--pg-records", type=int, default=2_000)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, SqliteLedger(Path(tmp) / "usage.db") as sqlite:
        measure("sqlite", sqlite, args.sqlite_records)

    schema = f"bench_ledger_{uuid.uuid4().hex[:10]}"
    try:
        pg = PostgresLedger(args.pg_url, schema=schema)
    except Exception as exc:  # the service is optional for a local run
        print(f"postgresql  skipped: {type(exc).__name__}: {exc}")
        return
    try:
        measure("postgresql", pg, args.pg_records)
    finally:
        pg._connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
        pg.close()


if __name__ == "__main__":
    main()
