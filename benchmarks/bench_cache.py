"""Response cache benchmarks, run by hand: `python benchmarks/bench_cache.py [--json]`.

Issue #5 asks for the hit latency per backend: `ResponseCache.get` of a present entry
(lookup, LRU touch, hit counter, JSON decode), p50 and p99 over many single calls, plus a
miss and a store for context. SQLite uses a temporary file; Redis the server at
`--redis-url` under a throwaway prefix (skipped if unreachable).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any


def percentiles_us(fn: Callable[[int], object], number: int) -> dict[str, float]:
    samples = []
    for i in range(number):
        start = time.perf_counter_ns()
        fn(i)
        samples.append((time.perf_counter_ns() - start) / 1000)
    samples.sort()
    return {
        "p50_us": round(statistics.median(samples), 1),
        "p99_us": round(samples[int(len(samples) * 0.99) - 1], 1),
    }


def bench(cache: Any, entries: int, number: int) -> dict[str, dict[str, float]]:
    from modelrouter.adapters.base import Response, ToolCall, Usage
    from modelrouter.cache.keys import cache_key
    from modelrouter.cache.store import CachedAnswer

    text = "A typical short answer of a few sentences. " * 10
    answer = CachedAnswer(
        Response(text, "stop", Usage(800, 120, 0, 0, 0), (ToolCall("c", "f", "{}"),), "m", "r"),
        "openai:gpt-5", Decimal("0.00123"),
    )
    messages = [{"role": "system", "content": "You are helpful."}]
    keys = [
        cache_key(target="tier:fast", messages=[*messages, {"role": "user", "content": str(i)}],
                  params={"temperature": 0, "max_tokens": 512})
        for i in range(entries)
    ]
    result = {
        "put": percentiles_us(lambda i: cache.put(keys[i % entries], answer), entries),
        "get (hit)": percentiles_us(lambda i: cache.get(keys[i % entries]), number),
        "get (miss)": percentiles_us(lambda i: cache.get(f"missing-{i}"), number),
        "cache_key": percentiles_us(
            lambda i: cache_key(target="tier:fast",
                                messages=[*messages, {"role": "user", "content": str(i)}],
                                params={"temperature": 0, "max_tokens": 512}),
            number,
        ),
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--number", type=int, default=5000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()

    from modelrouter.cache.backends import MemoryBackend, SQLiteBackend
    from modelrouter.cache.store import ResponseCache

    results: dict[str, Any] = {}
    results["memory"] = bench(ResponseCache(MemoryBackend()), args.entries, args.number)
    with tempfile.TemporaryDirectory() as tmp:
        cache = ResponseCache(SQLiteBackend(Path(tmp) / "cache.db"))
        results["sqlite"] = bench(cache, args.entries, args.number)
        cache.close()
    try:
        from modelrouter.cache.redis_backend import RedisBackend

        backend = RedisBackend(args.redis_url, prefix=f"mrbench:{uuid.uuid4().hex}")
        cache = ResponseCache(backend)
        try:
            results["redis"] = bench(cache, args.entries, args.number)
        finally:
            cache.clear()
            cache.close()
    except Exception as exc:  # Redis absent: report it, keep the other figures
        results["redis"] = {"skipped": f"{type(exc).__name__}: {exc}"}

    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{'backend':8} {'operation':12} {'p50 µs':>9} {'p99 µs':>9}")
    for backend_name, ops in results.items():
        if "skipped" in ops:
            print(f"{backend_name:8} skipped: {ops['skipped']}")
            continue
        for op, figures in ops.items():
            print(f"{backend_name:8} {op:12} {figures['p50_us']:9.1f} {figures['p99_us']:9.1f}")


if __name__ == "__main__":
    main()
