"""From a score to a tier: ``auto`` and ``auto:<threshold>``.

``auto`` uses the threshold calibrated out of fold on the public benchmark for a target quality
(``target_quality=0.95``: the fewest strong calls that keep 95 % of the strong model's quality
on that prompt family). ``auto:<t>`` fixes the threshold: the strong tier iff ``score >= t``.
``auto:cascade`` (or ``auto:cascade:<t>``) routes the same way, but a prompt sent to the cheap
tier has its answer self-checked (``routing.selfcheck``) and escalated to the strong tier when
the check rejects it; its calibrated threshold is the one for router + self-check.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from modelrouter.errors import ConfigError
from modelrouter.routing.complexity.features import Request
from modelrouter.routing.complexity.model import family_model, score_details

CHEAP_TIER = "balanced"
STRONG_TIER = "advanced"
MIN_TARGET, MAX_TARGET = 0.80, 1.00
TOP_FEATURES = 5


@dataclass(frozen=True, slots=True)
class AutoDecision:
    """The tier ``auto`` picked, the score and threshold behind it, and what drove the score."""

    tier: str
    score: float
    threshold: float
    family: str
    features_top: list[tuple[str, float]]
    cascade: bool = False

    @property
    def self_checked(self) -> bool:
        """auto:cascade sent the request to the cheap tier: its answer gets the self-check."""
        return self.cascade and self.tier != STRONG_TIER

    def explain(self) -> list[str]:
        side = ">=" if self.score >= self.threshold else "<"
        lines = [f"auto: score {self.score:.3f} {side} threshold {self.threshold:.3f} "
                 f"({self.family} prompt) -> tier {self.tier}"]
        if self.self_checked:
            lines.append(f"  cascade: the answer is self-checked; rejected -> tier {STRONG_TIER}")
        lines.extend(f"  {name}: {value:+.3f}" for name, value in self.features_top)
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {"tier": self.tier, "score": self.score, "threshold": self.threshold,
                "family": self.family, "cascade": self.cascade,
                "features_top": [[name, value] for name, value in self.features_top]}


def parse_auto(model: str) -> float | None:
    """``auto`` -> None (calibrated threshold); ``auto:0.4`` -> 0.4. Anything else: ConfigError."""
    threshold, cascade = parse_auto_spec(model)
    if cascade:
        raise ConfigError(f"{model!r} is a cascade; use parse_auto_spec", key="model")
    return threshold


def parse_auto_spec(model: str) -> tuple[float | None, bool]:
    """``auto`` / ``auto:<t>`` / ``auto:cascade`` / ``auto:cascade:<t>`` -> (threshold, cascade)."""
    text = model.strip().lower()
    if text == "auto":
        return None, False
    if not text.startswith("auto:"):
        raise ConfigError(f"{model!r} is not 'auto', 'auto:<threshold>' or 'auto:cascade'",
                          key="model")
    rest = text[5:]
    if rest == "cascade":
        return None, True
    if rest.startswith("cascade:"):
        return check_threshold(rest[8:], model), True
    return check_threshold(rest, model), False


def check_threshold(value: str | float, shown: str | None = None) -> float:
    try:
        t = float(value)
    except ValueError:
        t = math.nan
    if not math.isfinite(t) or not 0.0 <= t <= 1.0:
        raise ConfigError(f"bad auto threshold in {shown or value!r}",
                          key="model", hint="use auto:<t> with t between 0 and 1, e.g. auto:0.5")
    return t


def calibrated_threshold(family: str, target_quality: float = 0.95, *,
                         cascade: bool = False) -> float:
    """The score threshold that kept ``target_quality`` of strong quality on the public data.

    Targets between grid points use the next higher one (never less quality than asked for).
    With ``cascade``, the threshold calibrated for router + self-check where the benchmark has
    the cheap model's answers to check (open prompts), else the one-shot threshold.
    """
    if not math.isfinite(target_quality) or not 0.0 < target_quality <= MAX_TARGET:
        raise ConfigError(f"target quality {target_quality} is not in (0, 1]",
                          key="target_quality", hint="e.g. 0.95 for 95 % of the strong model")
    model = family_model(family)
    grid = model.cascade_thresholds if cascade and model.cascade_thresholds else model.thresholds
    wanted = max(MIN_TARGET, target_quality)
    key = min((k for k in grid if float(k) >= wanted - 1e-9), key=float)
    return grid[key]


def tier_for(score: float, threshold: float, *, cheap_tier: str = CHEAP_TIER,
             strong_tier: str = STRONG_TIER) -> str:
    """Monotone in the score: the strong tier iff ``score >= threshold``."""
    return strong_tier if score >= threshold else cheap_tier


def route(
    messages: Request | Sequence[Any], *, threshold: float | None = None,
    target_quality: float = 0.95, cheap_tier: str = CHEAP_TIER, strong_tier: str = STRONG_TIER,
    cascade: bool = False,
) -> AutoDecision:
    """Score a request and map it to a tier (what ``model="auto"`` / ``auto:<t>`` does)."""
    scored = score_details(messages)
    t = (calibrated_threshold(scored.family, target_quality, cascade=cascade)
         if threshold is None else check_threshold(threshold))
    contributions = family_model(scored.family).contributions(scored.features,
                                                              scored.outputs)
    top = sorted(contributions.items(), key=lambda kv: (-abs(kv[1]), kv[0]))[:TOP_FEATURES]
    return AutoDecision(
        tier=tier_for(scored.score, t, cheap_tier=cheap_tier, strong_tier=strong_tier),
        score=scored.score,
        threshold=t,
        family=scored.family,
        features_top=[(name, round(value, 4)) for name, value in top],
        cascade=cascade,
    )
