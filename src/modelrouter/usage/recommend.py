"""Recommendations from the ledger: free-usage share against the target, the most used
models, and cheaper models of the same quality for the costly (model, task) pairs.

Pure: takes aggregated usage and a catalog, returns data. The CLI feeds it from the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from modelrouter.catalog.loader import Catalog
from modelrouter.catalog.pricing import Usage, format_usd, price_usage
from modelrouter.catalog.schema import Capability, ModelSpec

FREE_TARGET = (0.70, 0.90)  # the seed's goal: 70–90 % of answers from free models
MIN_SAVING_SHARE = Decimal("0.10")  # suggest a switch only when it saves at least 10 %
DAYS_PER_MONTH = Decimal(30)
# Capabilities a request may have relied on: an alternative must have them too.
SENSITIVE = frozenset({Capability.FUNCTION_CALLING, Capability.STRUCTURED_OUTPUT,
                       Capability.JSON_MODE, Capability.IMAGE_INPUT, Capability.AUDIO_INPUT,
                       Capability.DOCUMENT_INPUT, Capability.EXTENDED_THINKING})


@dataclass(frozen=True, slots=True)
class PairUsage:
    """Successful answers of one model for one task in the window."""

    model: str
    task: str | None
    requests: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cost_usd: Decimal
    free: bool


@dataclass(frozen=True, slots=True)
class Switch:
    model: str
    task: str | None
    alternative: str
    requests: int
    current_cost_usd: Decimal
    alternative_cost_usd: Decimal
    monthly_saving_usd: Decimal
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "task": self.task, "alternative": self.alternative,
            "requests": self.requests,
            "current_cost_usd": format_usd(self.current_cost_usd),
            "alternative_cost_usd": format_usd(self.alternative_cost_usd),
            "monthly_saving_usd": format_usd(self.monthly_saving_usd),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Recommendations:
    days: int
    requests: int
    free_share: float
    free_target: tuple[float, float]
    free_advice: str
    top_models: Sequence[tuple[str, int, Decimal]]  # (model, requests, cost)
    switches: Sequence[Switch]

    def to_dict(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "requests": self.requests,
            "free_share": round(self.free_share, 4),
            "free_target": list(self.free_target),
            "free_advice": self.free_advice,
            "top_models": [{"model": m, "requests": n, "cost_usd": format_usd(c)}
                           for m, n, c in self.top_models],
            "switches": [s.to_dict() for s in self.switches],
            "projected_monthly_saving_usd": format_usd(
                sum((s.monthly_saving_usd for s in self.switches), Decimal(0))),
        }


def recommend(
    pairs: Iterable[PairUsage], catalog: Catalog, *, days: int, on: date | None = None,
    task_requirements: dict[str, Sequence[str]] | None = None, limit: int = 10,
) -> Recommendations:
    """Advice for the window covered by ``pairs`` (``days`` long, at least 1)."""
    rows = list(pairs)
    days = max(days, 1)
    total = sum(r.requests for r in rows)
    free = sum(r.requests for r in rows if r.free)
    share = free / total if total else 0.0
    by_model: dict[str, tuple[int, Decimal]] = {}
    for r in rows:
        n, c = by_model.get(r.model, (0, Decimal(0)))
        by_model[r.model] = (n + r.requests, c + r.cost_usd)
    top = sorted(((m, n, c) for m, (n, c) in by_model.items()), key=lambda t: (-t[1], t[0]))
    switches = []
    for row in sorted(rows, key=lambda r: r.cost_usd, reverse=True):
        if row.cost_usd <= 0:
            continue
        switch = _cheaper(row, catalog, days, on, (task_requirements or {}).get(row.task or ""))
        if switch is not None:
            switches.append(switch)
        if len(switches) >= limit:
            break
    return Recommendations(days, total, share, FREE_TARGET, _free_advice(share, total),
                           top[:limit], switches)


def _free_advice(share: float, total: int) -> str:
    low, high = FREE_TARGET
    if total == 0:
        return "no requests in this window"
    if share < low:
        return (f"{share:.0%} of answers came from free models, under the {low:.0%}–{high:.0%} "
                "target: put more free models first in the fast and balanced tiers "
                "(`modelrouter discover` finds them)")
    if share > high:
        return (f"{share:.0%} of answers came from free models, over {high:.0%}: check that "
                "quality holds (free models are rate-limited and change without notice)")
    return f"{share:.0%} of answers came from free models: within the target"


def _required(spec: ModelSpec, extra: Sequence[str] | None) -> frozenset[Capability]:
    needs = set(spec.effective_capabilities() & SENSITIVE)
    for name in extra or ():
        if name in Capability._value2member_map_:
            needs.add(Capability(name))
    return frozenset(needs)


def _cheaper(row: PairUsage, catalog: Catalog, days: int, on: date | None,
             task_needs: Sequence[str] | None) -> Switch | None:
    spec = catalog.find(row.model)
    if spec is None or spec.quality_class is None:
        return None
    needs = _required(spec, task_needs)
    usage = Usage(input_tokens=row.input_tokens, output_tokens=row.output_tokens,
                  cached_input_tokens=min(row.cached_tokens, row.input_tokens))
    best: tuple[Decimal, ModelSpec] | None = None
    for other in catalog:
        if other.model_id == spec.model_id or other.quality_class != spec.quality_class:
            continue
        if not needs <= other.effective_capabilities():
            continue
        if other.metadata.context_window_input < spec.metadata.context_window_input // 2:
            continue  # a much smaller window would reject some of these prompts
        price = catalog.prices.price(other.pricing_ref, on)
        if price is None:
            continue
        cost = price_usage(price, usage, other.model_id).total
        if best is None or cost < best[0]:
            best = (cost, other)
    if best is None:
        return None
    cost, other = best
    saving = row.cost_usd - cost
    if saving <= 0 or saving < row.cost_usd * MIN_SAVING_SHARE:
        return None
    monthly = saving * DAYS_PER_MONTH / days
    kept = ", ".join(sorted(c.value for c in needs)) or "no special capabilities"
    return Switch(row.model, row.task, other.model_id, row.requests, row.cost_usd, cost,
                  monthly, f"same quality class ({spec.quality_class}); keeps {kept}")
