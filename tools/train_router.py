"""Train the complexity router's weights from the routing-bench public split.

    .venv/bin/python tools/train_router.py                      # ../shared/routing-bench
    .venv/bin/python tools/train_router.py --data DIR --out FILE --no-write

Standard library only, seed 0, single process: a rerun writes
``src/modelrouter/routing/complexity/data/weights.json.gz`` byte for byte identically. It prints
5-fold cross-validated metrics (folds by ``sha256("fold:" + id) % 5``, public data only),
computed with the benchmark's own ``evaluate.py``.

Models (one per prompt family, on ``complexity.features``):

* ``choice`` (MMLU): z-scored blend of (a) a logistic model of "strong right, weak wrong" and
  (b) a regression on the *subject-smoothed* gain: each training row's target is the mean
  strong-minus-weak gain of its MMLU subject. The subject is a training target only, never a
  feature; ``--no-subject-target`` drops (b) (that variant is reported for comparison).
* ``open`` (GSM8K + MT-Bench): ridge regression (alpha 10) and 200 extra trees (leaf >= 10,
  a third of the features per split, seed 0) on the named + word-problem features, target the
  gain ``strong_correct - weak_correct``, blended as z-scores (``tools/router_fit.py``). With
  ~950 rows, hashed n-grams overfit here; the word-problem counts carry the signal.

Scores are mapped to [0, 1] by the out-of-fold quantiles of the raw output, and the score
threshold that keeps each target quality (0.80 … 1.00 of strong) is calibrated out of fold.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.util
import json
import math
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tools"))

import router_fit  # noqa: E402

from modelrouter.routing.complexity.cascade import cheapest_hybrid, hybrid_point  # noqa: E402
from modelrouter.routing.complexity.features import (  # noqa: E402
    HASH_BITS,
    NAMED_FEATURES,
    WORD_PROBLEM_FEATURES,
    Features,
    extract,
)
from modelrouter.routing.complexity.model import (  # noqa: E402
    WEIGHTS_FORMAT,
    FamilyModel,
    parse_part,
)
from modelrouter.routing.selfcheck import inadequacy  # noqa: E402

SEED = 0
FOLDS = 5
WEIGHT_SCALE = 100_000  # hashed weights are stored as integers / WEIGHT_SCALE
LINEAR_SHARE = 0.5  # weight of the strong-wins model in the MMLU blend (z-scored)
QUALITY_GRID = tuple(round(0.80 + 0.01 * k, 2) for k in range(21))
DEFAULT_OUT = ROOT / "src/modelrouter/routing/complexity/data/weights.json.gz"
K = len(NAMED_FEATURES)
OPEN_FEATURES = NAMED_FEATURES + WORD_PROBLEM_FEATURES
RIDGE_ALPHA = 10.0
FOREST = {"trees": 200, "min_leaf": 10, "max_features": 0.33}


def load_evaluator(data_dir: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("routing_bench_evaluate",
                                                  data_dir / "evaluate.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"no evaluate.py in {data_dir}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fold_of(row_id: str) -> int:
    return int(hashlib.sha256(f"fold:{row_id}".encode()).hexdigest(), 16) % FOLDS


# ------------------------------------------------------------------------ linear models

def standardiser(feats: list[Features]) -> list[tuple[float, float]]:
    n = len(feats)
    out = []
    for name in NAMED_FEATURES:
        values = [f.named[name] for f in feats]
        mean = sum(values) / n
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / n)
        out.append((round(mean, 6), round(sd, 6) if sd > 1e-9 else 1.0))
    return out


def design(feats: list[Features], stats: list[tuple[float, float]]
           ) -> list[list[tuple[int, float]]]:
    rows = []
    for f in feats:
        xs = [(j, (f.named[name] - stats[j][0]) / stats[j][1])
              for j, name in enumerate(NAMED_FEATURES)]
        xs.extend((K + b, v) for b, v in sorted(f.hashed.items()))
        rows.append(xs)
    return rows


def sgd(rows: list[list[tuple[int, float]]], ys: list[float], *, logistic: bool, epochs: int,
        lr: float, l2: float = 1e-4) -> tuple[float, list[float]]:
    """AdaGrad SGD, seeded order: logistic (y in [0, 1]) or squared loss."""
    w = [0.0] * (K + (1 << HASH_BITS))
    g2 = [1e-8] * len(w)
    mean = sum(ys) / len(ys)
    bias = math.log(mean / (1 - mean)) if logistic else mean
    bias_g2 = 1e-8
    order = list(range(len(rows)))
    rng = random.Random(SEED)
    for _ in range(epochs):
        rng.shuffle(order)
        for i in order:
            xs = rows[i]
            z = bias
            for j, v in xs:
                z += w[j] * v
            g = (1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))) if logistic else z) - ys[i]
            bias_g2 += g * g
            bias -= lr * g / math.sqrt(bias_g2)
            for j, v in xs:
                gj = g * v + l2 * w[j]
                s = g2[j] + gj * gj
                g2[j] = s
                w[j] -= lr * gj / math.sqrt(s)
    return bias, w


def predict(model: tuple[float, list[float]], rows: list[list[tuple[int, float]]]) -> list[float]:
    bias, w = model
    return [bias + sum(w[j] * v for j, v in xs) for xs in rows]


def zscore_blend(parts: list[tuple[tuple[float, list[float]], float, list[float]]]
                 ) -> tuple[float, list[float]]:
    """sum(share * (model - mean) / sd) as one linear model; stats from training outputs."""
    bias, w = 0.0, [0.0] * (K + (1 << HASH_BITS))
    for (b, weights), share, train_out in parts:
        mean = sum(train_out) / len(train_out)
        sd = math.sqrt(sum((x - mean) ** 2 for x in train_out) / len(train_out)) or 1.0
        bias += share * (b - mean) / sd
        for j, x in enumerate(weights):
            if x:
                w[j] += share * x / sd
    return bias, w


def subject_gain(rows: list[dict[str, Any]], prior: float = 10.0) -> list[float]:
    """Each row's subject mean gain, shrunk towards the overall mean (training target only)."""
    gains = [r["strong_correct"] - r["weak_correct"] for r in rows]
    overall = sum(gains) / len(gains)
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r, g in zip(rows, gains, strict=True):
        sums[r["subject"]][0] += g
        sums[r["subject"]][1] += 1
    return [(sums[r["subject"]][0] + prior * overall) / (sums[r["subject"]][1] + prior)
            for r in rows]


def fit_family(family: str, rows: list[dict[str, Any]], feats: list[Features],
               subject_target: bool) -> list[dict[str, Any]]:
    """The family's parts as weights-file bodies (see ``complexity.model.parse_part``)."""
    if family == "open":
        return fit_open(rows, feats)
    stats = standardiser(feats)
    x = design(feats, stats)
    gain = [float(r["strong_correct"]) - float(r["weak_correct"]) for r in rows]
    wins = [float(g > 0) for g in gain]
    linear = sgd(x, wins, logistic=True, epochs=3, lr=0.1)
    parts = [(linear, LINEAR_SHARE, predict(linear, x))]
    if subject_target:
        smooth = sgd(x, subject_gain(rows), logistic=False, epochs=3, lr=0.05)
        parts.append((smooth, 1.0, predict(smooth, x)))
    return [linear_body(stats, zscore_blend(parts))]


def linear_body(stats: list[tuple[float, float]], model: tuple[float, list[float]]
                ) -> dict[str, Any]:
    bias, w = model
    hashed = [(j - K, round(w[j] * WEIGHT_SCALE)) for j in range(K, len(w))]
    hashed = [(b, x) for b, x in hashed if x]
    return {
        "kind": "linear",
        "z": [0.0, 1.0, 1.0],
        "bias": round(bias, 6),
        "named": {name: [stats[j][0], stats[j][1], round(w[j], 6)]
                  for j, name in enumerate(NAMED_FEATURES)},
        "scale": WEIGHT_SCALE,
        "buckets": [b for b, _ in hashed],
        "weights": [x for _, x in hashed],
    }


def fit_open(rows: list[dict[str, Any]], feats: list[Features]) -> list[dict[str, Any]]:
    """Ridge + extra trees on the named and word-problem features, each z-scored, equal shares.

    The target is the gain ``strong_correct - weak_correct``; no n-grams (too few rows).
    """
    gain = [float(r["strong_correct"]) - float(r["weak_correct"]) for r in rows]
    dense = [[f.named[name] for name in OPEN_FEATURES] for f in feats]
    columns = [list(col) for col in zip(*dense, strict=True)]
    stats = []
    for col in columns:
        mean = math.fsum(col) / len(col)
        sd = math.sqrt(math.fsum((v - mean) ** 2 for v in col) / len(col))
        stats.append((round(mean, 6), round(sd, 6) if sd > 1e-9 else 1.0))
    standard = [[(v - m) / sd for v, (m, sd) in zip(row, stats, strict=True)] for row in dense]
    bias, w = router_fit.ridge(standard, gain, RIDGE_ALPHA)
    ridge = {"kind": "linear", "bias": round(bias, 6), "scale": WEIGHT_SCALE, "buckets": [],
             "weights": [], "named": {name: [stats[j][0], stats[j][1], round(w[j], 6)]
                                      for j, name in enumerate(OPEN_FEATURES)},
             "bounds": {name: [round(min(col), 6), round(max(col), 6)]
                        for name, col in zip(OPEN_FEATURES, columns, strict=True)}}
    trees = router_fit.extra_trees(columns, gain, trees=int(FOREST["trees"]),
                                   min_leaf=int(FOREST["min_leaf"]),
                                   max_features=float(FOREST["max_features"]), seed=SEED)
    forest = {"kind": "forest", "features": list(OPEN_FEATURES), "trees": trees}
    bodies = []
    for body in (ridge, forest):
        body["z"] = [0.0, 1.0, 1.0]
        part = parse_part(body)[0]
        outputs = [part.output(f) for f in feats]
        mean = math.fsum(outputs) / len(outputs)
        sd = math.sqrt(math.fsum((v - mean) ** 2 for v in outputs) / len(outputs)) or 1.0
        body["z"] = [round(mean, 6), round(sd, 6), 1.0]
        bodies.append(body)
    return bodies


def raw_outputs(bodies: list[dict[str, Any]], feats: list[Features]) -> list[float]:
    """The blended raw output of parts, exactly as the shipped scorer computes it."""
    model = FamilyModel(parts=tuple(parse_part(b) for b in bodies), knots=(0.0, 1.0),
                        thresholds={})
    return [model.raw(f) for f in feats]


# ------------------------------------------------------------------------- calibration

def quantile_knots(values: list[float], count: int = 101) -> list[float]:
    ordered = sorted(values)
    n = len(ordered)
    knots = []
    for k in range(count):
        pos = (n - 1) * k / (count - 1)
        lo = int(pos)
        hi = min(lo + 1, n - 1)
        knots.append(round(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo), 6))
    return knots


def to_score(raw: float, knots: list[float]) -> float:
    import bisect

    if raw <= knots[0]:
        return 0.0
    if raw >= knots[-1]:
        return 1.0
    j = bisect.bisect_right(knots, raw)
    lo, hi = knots[j - 1], knots[j]
    return (j - 1 + (0.0 if hi == lo else (raw - lo) / (hi - lo))) / (len(knots) - 1)


def thresholds(ev: ModuleType, rows: list[dict[str, Any]], scores: list[float],
               meta: dict[str, Any]) -> dict[str, float]:
    out = {}
    for q in QUALITY_GRID:
        point = ev.Bench(rows, meta, q).at_quality_target(scores)
        t = point["threshold"]
        out[f"{q:.2f}"] = round(1.0 if t is None else t, 4)
    return out


# ------------------------------------------------------------------------------- main

def run(data_dir: Path, *, subject_target: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    ev = load_evaluator(data_dir)
    meta = json.loads((data_dir / "meta.json").read_text(encoding="utf-8"))
    sets = {
        "mmlu": ev.load_data(str(data_dir / "mmlu.public.jsonl.gz")),
        "gsm8k": ev.load_data(str(data_dir / "gsm8k.public.jsonl")),
        "mt_bench": ev.load_data(str(data_dir / "mt_bench.public.jsonl")),
    }
    families = {"choice": sets["mmlu"], "open": sets["gsm8k"] + sets["mt_bench"]}
    weights: dict[str, Any] = {"format": WEIGHTS_FORMAT, "hash_bits": HASH_BITS, "seed": SEED,
                               "subject_target": subject_target, "families": {}}
    oof_scores: dict[str, float] = {}
    for family, rows in families.items():
        feats = [extract(r["prompt"], word_problems=family == "open") for r in rows]
        folds = [fold_of(r["id"]) for r in rows]
        oof = [0.0] * len(rows)
        for k in range(FOLDS):
            train = [i for i in range(len(rows)) if folds[i] != k]
            test = [i for i in range(len(rows)) if folds[i] == k]
            bodies = fit_family(family, [rows[i] for i in train], [feats[i] for i in train],
                                subject_target)
            for i, value in zip(test, raw_outputs(bodies, [feats[i] for i in test]),
                                strict=True):
                oof[i] = value
        knots = quantile_knots(oof)
        scores = [to_score(v, knots) for v in oof]
        oof_scores.update((r["id"], s) for r, s in zip(rows, scores, strict=True))
        weights["families"][family] = {
            "parts": fit_family(family, rows, feats, subject_target),
            "knots": knots,
            "thresholds": thresholds(ev, rows, scores, meta),
        }
    # GSM8K has the cheap model's recorded answers: run the self-check on them once.
    gsm = sets["gsm8k"]
    checked = (ev.row_costs(gsm, meta), [inadequacy(r["weak_response"]) is not None for r in gsm])
    gsm_scores = [oof_scores[r["id"]] for r in gsm]
    weights["families"]["open"]["cascade_thresholds"] = cascade_thresholds(gsm, gsm_scores,
                                                                           *checked)
    report = {name: evaluate(ev, rows, meta, [oof_scores[r["id"]] for r in rows])
              for name, rows in sets.items()}
    report["gsm8k"]["cascade"] = cascade_report(gsm, gsm_scores, *checked)
    return weights, report


def evaluate(ev: ModuleType, rows: list[dict[str, Any]], meta: dict[str, Any],
             scores: list[float]) -> dict[str, Any]:
    bench = ev.Bench(rows, meta)
    return {"router": bench.evaluate(scores, with_curve=False),
            "length": bench.evaluate(ev.length_scores(rows), with_curve=False),
            "random": bench.random_expected()}


Costs = tuple[list[float], list[float]]  # (strong, weak) USD per row, from evaluate.row_costs


def cascade_thresholds(rows: list[dict[str, Any]], scores: list[float], costs: Costs,
                       rejected: list[bool]) -> dict[str, float]:
    """Per target quality, the cheapest threshold for router + self-check (1.0 = never direct;
    a target the cascade cannot reach falls back to sending everything straight to strong)."""
    out = {}
    for q in QUALITY_GRID:
        best = cheapest_hybrid(rows, scores, rejected, costs, q)
        t = 0.0 if best is None else min(1.0, best.threshold)
        out[f"{q:.2f}"] = round(t, 4)
    return out


def cascade_report(rows: list[dict[str, Any]], ordered: list[float], costs: Costs,
                   rejected: list[bool]) -> dict[str, Any]:
    """``auto:cascade`` with the real self-check on the recorded cheap answers (GSM8K has them):
    self-check alone, and with the out-of-fold router sending high scores straight to strong."""
    wrong = [r["weak_correct"] < 0.5 for r in rows]
    flagged = sum(rejected)
    return {
        "self_check_rejects": flagged,
        "self_check_precision": round(sum(a and b for a, b in zip(rejected, wrong, strict=True))
                                      / max(1, flagged), 4),
        "self_check_recall": round(sum(a and b for a, b in zip(rejected, wrong, strict=True))
                                   / max(1, sum(wrong)), 4),
        "self_check_only": hybrid_point(rows, ordered, rejected, costs, math.inf).to_dict(),
        "router_plus_self_check_at_95q": (
            None if (best := cheapest_hybrid(rows, ordered, rejected, costs)) is None
            else best.to_dict()),
    }


KEYS = ("apgr", "cpt50_pct", "cpt80_pct", "cpt95_pct", "strong_calls_at_95q_pct",
        "cost_saving_at_95q_pct", "call_saving_at_95q_pct")


def print_report(report: dict[str, Any]) -> None:
    print(f"{'data':9} {'router':7} " + " ".join(f"{k[:14]:>14}" for k in KEYS))
    for name, block in report.items():
        for who in ("router", "length", "random"):
            cells = " ".join(f"{block[who].get(k, float('nan')):>14}" for k in KEYS)
            print(f"{name:9} {who:7} {cells}")
    cascade = report["gsm8k"]["cascade"]
    alone, hybrid = cascade["self_check_only"], cascade["router_plus_self_check_at_95q"]
    print(f"gsm8k cascade, real self-check on the recorded cheap answers (rejects "
          f"{cascade['self_check_rejects']}, precision {cascade['self_check_precision']:.2f}, "
          f"recall {cascade['self_check_recall']:.2f}): alone {alone['quality_pct_of_strong']:.1f} "
          f"% of strong quality at {alone['cost_saving_pct']:.1f} % saving"
          + ("" if hybrid is None else
             f"; with the router at 95 %: {hybrid['direct_strong_pct']:.1f} % straight to strong, "
             f"{hybrid['escalated_pct']:.1f} % escalated, "
             f"{hybrid['cost_saving_pct']:.1f} % saving"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "routing-bench")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--no-write", action="store_true", help="only print the CV metrics")
    parser.add_argument("--no-subject-target", action="store_true",
                        help="train MMLU on outcomes only (no subject-smoothed target)")
    parser.add_argument("--json", action="store_true", help="print the CV report as JSON")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    weights, report = run(args.data, subject_target=not args.no_subject_target)
    if not args.no_write:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        # gzip with a fixed mtime and no file name: the same bytes on every run.
        args.out.write_bytes(gzip.compress(serialise(weights).encode("utf-8"), 9, mtime=0))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
        print(f"trained in {time.perf_counter() - start:.1f} s"
              + ("" if args.no_write else f"; wrote {args.out}"))
    return 0


def serialise(weights: dict[str, Any]) -> str:
    return json.dumps(weights, separators=(",", ":"), sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.exit(main())
