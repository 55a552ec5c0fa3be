"""Dense learners for ``train_router.py``: ridge regression and extra trees, standard library only.

Both are deterministic for a given seed, so the shipped weights are reproduced byte for byte.
Trees are stored flat (``feature``, ``threshold``, ``left``, ``right``, ``value`` lists; a leaf has
feature -1), the format ``modelrouter.routing.complexity.model`` reads.
"""

from __future__ import annotations

import math
import random
from typing import Any


def ridge(x: list[list[float]], y: list[float], alpha: float) -> tuple[float, list[float]]:
    """Ridge regression, unpenalised bias: (bias, weights), by Gauss-Jordan elimination.

    Columns are centred here, so the penalty is the same whatever their offsets; standardise
    them first if their scales differ.
    """
    n, k = len(x), len(x[0])
    mean_y = math.fsum(y) / n
    col_means = [math.fsum(row[i] for row in x) / n for i in range(k)]
    a = [[0.0] * (k + 1) for _ in range(k)]
    for raw_row, target in zip(x, y, strict=True):
        row = [v - m for v, m in zip(raw_row, col_means, strict=True)]
        t = target - mean_y
        for i in range(k):
            ri = row[i]
            if ri:
                ai = a[i]
                for j in range(i, k):
                    ai[j] += ri * row[j]
                ai[k] += ri * t
    for i in range(k):
        a[i][i] += alpha
        for j in range(i):
            a[i][j] = a[j][i]
    for col in range(k):
        pivot = max(range(col, k), key=lambda r: abs(a[r][col]))
        a[col], a[pivot] = a[pivot], a[col]
        p = a[col][col]
        a[col] = [v / p for v in a[col]]
        for r in range(k):
            if r != col and a[r][col]:
                f = a[r][col]
                a[r] = [v - f * c for v, c in zip(a[r], a[col], strict=True)]
    w = [a[i][k] for i in range(k)]
    return mean_y - sum(wi * m for wi, m in zip(w, col_means, strict=True)), w


def extra_trees(columns: list[list[float]], y: list[float], *, trees: int, min_leaf: int,
                max_features: float, seed: int) -> list[dict[str, list[Any]]]:
    """Extremely randomised regression trees (Geurts et al. 2006) on column-major data."""
    rng = random.Random(seed)
    k = max(1, int(max_features * len(columns)))
    return [_tree(columns, y, rng, k, min_leaf) for _ in range(trees)]


def _tree(columns: list[list[float]], y: list[float], rng: random.Random, k: int,
          min_leaf: int) -> dict[str, list[Any]]:
    feature: list[int] = []
    threshold: list[float] = []
    left: list[int] = []
    right: list[int] = []
    value: list[float] = []

    def node() -> int:
        feature.append(-1)
        threshold.append(0.0)
        left.append(-1)
        right.append(-1)
        value.append(0.0)
        return len(feature) - 1

    stack = [(node(), list(range(len(y))))]
    while stack:
        at, idx = stack.pop()
        ys = [y[i] for i in idx]
        total = math.fsum(ys)
        value[at] = round(total / len(ys), 6)
        if len(idx) < 2 * min_leaf:
            continue
        best: tuple[float, int, float] | None = None
        tried = 0
        for f in rng.sample(range(len(columns)), len(columns)):
            col = columns[f]
            vals = [col[i] for i in idx]
            lo, hi = min(vals), max(vals)
            if hi - lo < 1e-12:
                continue  # a constant feature does not count towards k
            tried += 1
            t = round(rng.uniform(lo, hi), 6)
            picked = [yy for v, yy in zip(vals, ys, strict=True) if v <= t]
            n_left = len(picked)
            if min_leaf <= n_left <= len(ys) - min_leaf:
                s_left = math.fsum(picked)
                gain = s_left * s_left / n_left + (total - s_left) ** 2 / (len(ys) - n_left)
                if best is None or gain > best[0]:
                    best = (gain, f, t)
            if tried >= k:
                break
        if best is None:
            continue
        _, f, t = best
        col = columns[f]
        lo_idx = [i for i in idx if col[i] <= t]
        hi_idx = [i for i in idx if col[i] > t]
        feature[at], threshold[at] = f, t
        left[at] = node()
        right[at] = node()
        stack.append((right[at], hi_idx))
        stack.append((left[at], lo_idx))
    return {"feature": feature, "threshold": threshold, "left": left, "right": right,
            "value": value}


def predict_tree(tree: dict[str, list[Any]], row: list[float]) -> float:
    feature, threshold = tree["feature"], tree["threshold"]
    left, right = tree["left"], tree["right"]
    at = 0
    while feature[at] >= 0:
        at = left[at] if row[feature[at]] <= threshold[at] else right[at]
    return float(tree["value"][at])


def predict_forest(forest: list[dict[str, list[Any]]], row: list[float]) -> float:
    return math.fsum(predict_tree(t, row) for t in forest) / len(forest)
