"""Complexity-router benchmarks, run by hand: `python benchmarks/bench_complexity.py [--json]`.

Targets (issue #7): scoring ≤ 5 ms p50 per prompt on one core, model included (first-load
time reported separately); `import modelrouter` does not load the model.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "shared" / "routing-bench"
FALLBACK = ["What is the capital of France?",
            "Which of the following is NOT prime?\nA. 2\nB. 3\nC. 9\nD. 11\nAnswer:",
            "Natalia sold clips to 48 of her friends in April, and then she sold half as many "
            "clips in May. How many clips did Natalia sell altogether in April and May?"]


def prompts(limit: int = 1000) -> dict[str, list[str]]:
    """Up to ``limit`` prompts per benchmark file (MMLU = choice family, GSM8K = open)."""
    mmlu, gsm = BENCH / "mmlu.public.jsonl.gz", BENCH / "gsm8k.public.jsonl"
    if not mmlu.is_file() or not gsm.is_file():
        return {"fallback": FALLBACK * (limit // len(FALLBACK))}
    with gzip.open(mmlu, "rt", encoding="utf-8") as f:
        choice = [json.loads(line)["prompt"] for line in f]
    open_ = [json.loads(line)["prompt"] for line in gsm.read_text(encoding="utf-8").splitlines()]
    return {name: rows[:: max(1, len(rows) // limit)]
            for name, rows in (("mmlu", choice), ("gsm8k", open_))}


def bench_score() -> dict[str, float]:
    start = time.perf_counter()
    from modelrouter.routing.complexity.model import load_model, score

    load_model()
    out = {"load_ms": (time.perf_counter() - start) * 1000}
    for name, rows in prompts().items():
        times = []
        for prompt in rows:
            t0 = time.perf_counter_ns()
            score(prompt)
            times.append(time.perf_counter_ns() - t0)
        times.sort()
        out[f"{name}_p50_ms"] = times[len(times) // 2] / 1e6
        out[f"{name}_p99_ms"] = times[int(len(times) * 0.99)] / 1e6
    return out


def bench_import() -> dict[str, float | bool]:
    code = ("import sys, time; t = time.perf_counter(); import modelrouter; "
            "print((time.perf_counter() - t) * 1000, "
            "'modelrouter.routing.complexity.model' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    ms, loaded = out.stdout.split()
    return {"import_ms": float(ms), "model_module_imported": loaded == "True"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    weights = (Path(__file__).resolve().parents[1]
               / "src/modelrouter/routing/complexity/data/weights.json.gz")
    result = {"score": bench_score(), "import": bench_import(),
              "weights_mb": weights.stat().st_size / 1e6}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        s = result["score"]
        for name in sorted({k.split("_p")[0] for k in s if "_p50" in k}):
            print(f"score {name}: p50 {s[name + '_p50_ms']:.3f} ms, "
                  f"p99 {s[name + '_p99_ms']:.3f} ms (target p50 ≤ 5 ms)")
        print(f"first load of the weights: {s['load_ms']:.0f} ms")
        print(f"import modelrouter: {result['import']['import_ms']:.1f} ms, model module loaded: "
              f"{result['import']['model_module_imported']}")
        print(f"weights: {result['weights_mb']:.2f} MB gzipped (target ≤ 10 MB)")


if __name__ == "__main__":
    main()
