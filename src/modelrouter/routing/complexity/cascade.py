"""Cascade: answer with the cheap tier first, escalate when a judge finds the answer inadequate.

In production the judge is a validator or a self-check (``routing.validators``). On the
benchmark there is no judge to run, so :func:`simulate` **assumes a judge signal**: it uses the
recorded weak-model outcome as the truth and a judge that is right with probability
``judge_accuracy`` (independently per prompt). Figures are expected values, not samples. The
cheap answer is always paid for; escalated prompts also pay for the strong answer. The judge's
own cost is not counted. So these figures are an upper bound for a real judge of that accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CascadeResult:
    judge_accuracy: float
    quality: float
    quality_pct_of_strong: float
    escalated_pct: float
    cost_usd: float
    cost_saving_pct: float  # against always-strong, token-weighted

    def to_dict(self) -> dict[str, float]:
        return {k: round(getattr(self, k), 4) for k in self.__dataclass_fields__}


def simulate(rows: Sequence[Mapping[str, Any]], costs: tuple[Sequence[float], Sequence[float]],
             *, judge_accuracy: float = 0.9, adequate_at: float = 0.5) -> CascadeResult:
    """Expected quality and cost of weak-then-strong on benchmark rows.

    ``costs`` is (strong, weak) USD per row, e.g. from ``evaluate.row_costs``; a weak answer is
    adequate iff ``weak_correct >= adequate_at``.
    """
    if not 0.0 <= judge_accuracy <= 1.0:
        raise ValueError("judge_accuracy must be in [0, 1]")
    strong_cost, weak_cost = costs
    n = len(rows)
    quality = escalated = cost = strong_quality = 0.0
    for row, cs, cw in zip(rows, strong_cost, weak_cost, strict=True):
        qs, qw = float(row["strong_correct"]), float(row["weak_correct"])
        p_escalate = 1.0 - judge_accuracy if qw >= adequate_at else judge_accuracy
        quality += p_escalate * qs + (1.0 - p_escalate) * qw
        escalated += p_escalate
        cost += cw + p_escalate * cs
        strong_quality += qs
    always_strong = sum(strong_cost)
    return CascadeResult(
        judge_accuracy=judge_accuracy,
        quality=quality / n,
        quality_pct_of_strong=100.0 * quality / strong_quality if strong_quality else 0.0,
        escalated_pct=100.0 * escalated / n,
        cost_usd=cost,
        cost_saving_pct=100.0 * (1.0 - cost / always_strong) if always_strong else 0.0,
    )


@dataclass(frozen=True, slots=True)
class HybridPoint:
    """``auto:cascade`` on benchmark rows at one threshold: score >= t goes straight to the
    strong model; the rest get the cheap answer, escalated when the self-check rejects it."""

    threshold: float
    quality: float
    quality_pct_of_strong: float
    direct_strong_pct: float
    escalated_pct: float
    cost_saving_pct: float

    def to_dict(self) -> dict[str, float | None]:
        """Rounded figures; a threshold of "never straight to strong" (inf) is None (JSON)."""
        out: dict[str, float | None] = {
            k: round(getattr(self, k), 4) for k in self.__dataclass_fields__}
        if self.threshold == math.inf:
            out["threshold"] = None
        return out


def _cheap_path(qs: float, qw: float, rejected: bool, cs: float, cw: float
                ) -> tuple[float, float]:
    """(quality, cost) of a prompt sent to the cheap tier: the cheap answer, or both answers
    when the self-check rejects the cheap one."""
    return (qs, cw + cs) if rejected else (qw, cw)


def hybrid_point(rows: Sequence[Mapping[str, Any]], scores: Sequence[float],
                 rejected: Sequence[bool], costs: tuple[Sequence[float], Sequence[float]],
                 threshold: float) -> HybridPoint:
    """Quality and cost of router + cascade with a *real* judge: ``rejected[i]`` is the
    self-check's verdict on row i's recorded cheap answer (no assumed accuracy)."""
    strong_cost, weak_cost = costs
    n = len(rows)
    quality = strong_quality = cost = direct = escalated = 0.0
    for row, s, bad, cs, cw in zip(rows, scores, rejected, strong_cost, weak_cost, strict=True):
        qs, qw = float(row["strong_correct"]), float(row["weak_correct"])
        strong_quality += qs
        if s >= threshold:
            direct += 1
            quality += qs
            cost += cs
        else:
            q, c = _cheap_path(qs, qw, bad, cs, cw)
            escalated += bad
            quality += q
            cost += c
    always_strong = sum(strong_cost)
    return HybridPoint(
        threshold=threshold,
        quality=quality / n,
        quality_pct_of_strong=100.0 * quality / strong_quality if strong_quality else 0.0,
        direct_strong_pct=100.0 * direct / n,
        escalated_pct=100.0 * escalated / n,
        cost_saving_pct=100.0 * (1.0 - cost / always_strong) if always_strong else 0.0,
    )


def cheapest_hybrid(rows: Sequence[Mapping[str, Any]], scores: Sequence[float],
                    rejected: Sequence[bool], costs: tuple[Sequence[float], Sequence[float]],
                    target_quality: float = 0.95) -> HybridPoint | None:
    """The cheapest threshold (every distinct score, or "never direct") whose quality reaches
    ``target_quality`` of the strong model's; None if none does. One sweep, O(n log n)."""
    strong_cost, weak_cost = costs
    n = len(rows)
    if n == 0:
        return None
    qs = [float(r["strong_correct"]) for r in rows]
    cheap = [_cheap_path(qs[i], float(rows[i]["weak_correct"]), rejected[i], strong_cost[i],
                         weak_cost[i]) for i in range(n)]
    # Start with no direct strong calls, then lower the threshold one score group at a time.
    quality = sum(q for q, _ in cheap)
    cost = sum(c for _, c in cheap)
    goal = target_quality * sum(qs) - 1e-9
    best_t, best_cost = (math.inf, cost) if quality >= goal else (None, math.inf)
    order = sorted(range(n), key=lambda i: -scores[i])
    k = 0
    while k < n:
        t = scores[order[k]]
        while k < n and scores[order[k]] == t:
            i = order[k]
            quality += qs[i] - cheap[i][0]
            cost += strong_cost[i] - cheap[i][1]
            k += 1
        if quality >= goal and cost < best_cost - 1e-15:
            best_t, best_cost = t, cost
    if best_t is None:
        return None
    return hybrid_point(rows, scores, rejected, costs, best_t)
