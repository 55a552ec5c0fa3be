"""Routing benchmarks, run by hand: `python benchmarks/bench_routing.py [--json]`.

Targets (issue #4): a selection decision over the bundled catalog ≤ 20 µs p50; the router's
overhead per non-streamed call, in process, against a bare httpx call to the same fake
provider ≤ 0.3 ms p50. Both sides of the overhead figure use one warm AsyncClient and the same
request; the fake provider runs in this process's background thread on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx

from modelrouter.catalog.loader import get_catalog
from modelrouter.config import load_config
from modelrouter.routing.records import NullSink
from modelrouter.routing.router import Router
from modelrouter.routing.selection import Requirements, select
from modelrouter.testing import FakeProvider
from modelrouter.usage.ledger import open_ledger, sqlite_url

BALANCED = ("openrouter:openai/gpt-oss-120b:free", "openrouter:deepseek/deepseek-v4-flash:free",
            "google:gemini-2.5-flash", "openai:gpt-5-mini", "deepseek:deepseek-chat",
            "anthropic:claude-haiku-4-5")
MESSAGES = [{"role": "user", "content": "Route this short request, please."}]


def bench_selection(samples: int = 20_000) -> dict[str, float]:
    catalog = get_catalog()
    require = Requirements.parse(["function_calling"])
    times = []
    for _ in range(samples):
        start = time.perf_counter_ns()
        select(BALANCED, catalog=catalog, tier="balanced", require=require,
               context_tokens=1200, max_output_tokens=1024)
        times.append(time.perf_counter_ns() - start)
    times.sort()
    return {"p50_us": times[len(times) // 2] / 1000, "p99_us": times[int(len(times) * .99)] / 1000}


async def bench_overhead(samples: int = 2000, *, ledger: bool = False) -> dict[str, float]:
    """Router vs bare httpx; ``ledger`` adds the default SQLite ledger write per call."""
    with FakeProvider() as fake, TemporaryDirectory() as tmp:
        path = Path(tmp) / "modelrouter.toml"
        path.write_text('[tiers.fast]\nmodels = ["openai:gpt-5-nano"]\n', encoding="utf-8")
        environ = {"OPENAI_API_KEY": "sk-bench"}
        client = httpx.AsyncClient(timeout=None)
        sink = (open_ledger(sqlite_url(Path(tmp) / "usage.db")) if ledger else NullSink())
        router = Router(load_config(path, environ=environ), environ=environ, client=client,
                        base_urls={"openai": f"{fake.base_url}/v1"}, sink=sink,
                        budgets=None, cache=None, alerts=None)
        url = f"{fake.base_url}/v1/chat/completions"
        body = {"model": "gpt-5-nano", "messages": MESSAGES, "max_completion_tokens": 256,
                "temperature": 0.3}
        headers = {"authorization": "Bearer sk-bench"}

        async def bare() -> None:
            response = await client.post(url, json=body, headers=headers)
            response.json()

        async def routed() -> None:
            await router.chat(MESSAGES, tier="fast")

        for _ in range(200):  # warm both paths and the connection pool
            await bare()
            await routed()
        bare_t, routed_t = [], []
        for _ in range(samples):  # interleaved, so drift hits both sides alike
            start = time.perf_counter_ns()
            await bare()
            bare_t.append(time.perf_counter_ns() - start)
            start = time.perf_counter_ns()
            await routed()
            routed_t.append(time.perf_counter_ns() - start)
        await client.aclose()
    bare_p50 = statistics.median(bare_t) / 1e6
    routed_p50 = statistics.median(routed_t) / 1e6
    return {"bare_httpx_p50_ms": bare_p50, "router_p50_ms": routed_p50,
            "overhead_p50_ms": routed_p50 - bare_p50}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    selection = bench_selection()
    overhead = asyncio.run(bench_overhead())
    with_ledger = asyncio.run(bench_overhead(ledger=True))
    if args.json:
        print(json.dumps({"selection": selection, "overhead": overhead,
                          "overhead_with_ledger": with_ledger}, indent=2))
        return
    print(f"selection over the balanced tier (6 candidates): p50 {selection['p50_us']:.1f} µs, "
          f"p99 {selection['p99_us']:.1f} µs (target p50 ≤ 20 µs)")
    print(f"bare httpx call p50 {overhead['bare_httpx_p50_ms']:.3f} ms; through the router "
          f"p50 {overhead['router_p50_ms']:.3f} ms; overhead {overhead['overhead_p50_ms']:.3f} ms "
          "(target ≤ 0.3 ms)")
    print(f"with the SQLite ledger recording each attempt: overhead "
          f"{with_ledger['overhead_p50_ms']:.3f} ms")


if __name__ == "__main__":
    main()
