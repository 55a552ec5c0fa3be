"""Catalog benchmarks, run by hand: `python benchmarks/bench_catalog.py [--json]`.

Targets (issue #3): lookup ≤ 1 µs, cost ≤ 5 µs, `import modelrouter` ≤ 150 ms,
full catalog load ≤ 100 ms, `modelrouter --help` ≤ 300 ms. Figures are medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

TARGETS_US = {
    "model lookup (Catalog.get)": 1.0,
    "model lookup (modelrouter.get_model)": 1.0,
    "cost (calculate_cost)": 5.0,
    "cost (price_usage, price in hand)": 5.0,
    "catalog load, cold (parse + validate)": 100_000.0,
    "import modelrouter (fresh process)": 150_000.0,
    "import modelrouter + first cost (fresh process)": None,
    "modelrouter --help (fresh process)": 300_000.0,
}


def per_call_us(fn: Callable[[], object], number: int, repeat: int = 7) -> float:
    """Median over `repeat` runs of the mean time of `number` calls, in µs."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - start) / number * 1e6)
    return statistics.median(runs)


def process_us(argv: list[str], repeat: int = 15) -> float:
    """Median wall time of a fresh process, minus nothing: what a user waits."""
    env = dict(os.environ)
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
        runs.append((time.perf_counter() - start) * 1e6)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()

    import modelrouter
    from modelrouter.catalog.loader import Catalog, bundled_catalog_dir, get_catalog
    from modelrouter.catalog.pricing import Usage, price_usage

    catalog = get_catalog()
    usage = Usage(input_tokens=12_345, output_tokens=678, cached_input_tokens=2_000,
                  reasoning_tokens=100)
    price = catalog.prices.price(catalog.get("anthropic:claude-sonnet-4-5").pricing_ref)
    assert price is not None
    python = sys.executable
    cli = str(Path(python).with_name("modelrouter"))

    results = {
        "model lookup (Catalog.get)": per_call_us(lambda: catalog.get("gpt-5"), 200_000),
        "model lookup (modelrouter.get_model)": per_call_us(
            lambda: modelrouter.get_model("gpt-5"), 200_000
        ),
        "cost (calculate_cost)": per_call_us(
            lambda: modelrouter.calculate_cost("claude-sonnet-4-5", usage), 50_000
        ),
        "cost (price_usage, price in hand)": per_call_us(
            lambda: price_usage(price, usage, "anthropic:claude-sonnet-4-5"), 50_000
        ),
        "catalog load, cold (parse + validate)": per_call_us(
            lambda: Catalog.load(bundled_catalog_dir()), 5, repeat=7
        ),
        "import modelrouter (fresh process)": process_us([python, "-c", "import modelrouter"]),
        "import modelrouter + first cost (fresh process)": process_us(
            [python, "-c", "import modelrouter as m; m.calculate_cost('gpt-5', m.Usage(1, 1))"]
        ),
        "modelrouter --help (fresh process)": process_us([cli, "--help"]),
    }
    baseline = process_us([python, "-c", "pass"])
    if args.json:
        print(json.dumps({"models": len(catalog), "python_startup_us": baseline,
                          "results_us": results}, indent=2))
        return
    print(f"catalog: {len(catalog)} models; bare `python -c pass`: {baseline / 1000:.1f} ms")
    for name, value in results.items():
        target = TARGETS_US[name]
        verdict = "" if target is None else ("ok" if value <= target else "OVER TARGET")
        shown = f"{value:,.2f} µs" if value < 1000 else f"{value / 1000:,.1f} ms"
        limit = "" if target is None else (
            f"≤ {target:g} µs" if target < 1000 else f"≤ {target / 1000:g} ms")
        print(f"{name:<50} {shown:>12}  {limit:>10}  {verdict}")


if __name__ == "__main__":
    main()
