"""Cascade: answer with the cheap tier first, escalate when a judge finds the answer inadequate.

In production the judge is a validator or a self-check (``routing.validators``). On the
benchmark there is no judge to run, so :func:`simulate` **assumes a judge signal**: it uses the
recorded weak-model outcome as the truth and a judge that is right with probability
``judge_accuracy`` (independently per prompt). Figures are expected values, not samples. The
cheap answer is always paid for; escalated prompts also pay for the strong answer. The judge's
own cost is not counted. So these figures are an upper bound for a real judge of that accuracy.
"""

from __future__ import annotations

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
