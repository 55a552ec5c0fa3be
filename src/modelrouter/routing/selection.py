"""Selection: which model to call, as a pure function of catalog, candidates and live state.

``select`` takes the ordered candidate ids (a tier's models, then fallbacks), the request's
requirements and a snapshot of live state, and returns a ``Decision``: the chosen model, the
ordered fallbacks, and for every candidate dropped, why. No I/O, no clock: time is in the
snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from modelrouter.catalog.loader import Catalog
from modelrouter.catalog.pricing import MILLION, ModelPrice, format_usd, today_ordinal
from modelrouter.catalog.schema import Capability, ModelSpec, QualityClass, SpeedClass
from modelrouter.errors import ConfigError

REQUIRE_FAST = "fast"
REQUIRE_QUALITY = "quality"
_QUALITY_OK = frozenset({QualityClass.HIGH, QualityClass.FRONTIER})
_CAPABILITIES = {c.value: c for c in Capability}


@dataclass(frozen=True, slots=True)
class Requirements:
    """What a request needs from a model, parsed once: speed, quality, capabilities."""

    fast: bool = False
    quality: bool = False
    capabilities: frozenset[Capability] = frozenset()

    @classmethod
    def parse(cls, names: Iterable[str]) -> Requirements:
        fast = quality = False
        caps: set[Capability] = set()
        for raw in names:
            name = raw.strip().lower().replace("-", "_")
            if name == REQUIRE_FAST:
                fast = True
            elif name == REQUIRE_QUALITY:
                quality = True
            elif name in _CAPABILITIES:
                caps.add(_CAPABILITIES[name])
            else:
                import difflib

                known = [REQUIRE_FAST, REQUIRE_QUALITY, *_CAPABILITIES]
                close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
                raise ConfigError(
                    f"unknown requirement {raw!r}; use fast, quality or a capability",
                    key="require",
                    hint=f"did you mean {close[0]!r}?" if close else None,
                )
        return cls(fast, quality, frozenset(caps))

    def names(self) -> list[str]:
        out = [REQUIRE_FAST] if self.fast else []
        if self.quality:
            out.append(REQUIRE_QUALITY)
        return out + sorted(c.value for c in self.capabilities)


@dataclass(frozen=True, slots=True)
class LiveState:
    """A snapshot of what changes while the router runs; times are monotonic seconds."""

    now: float = 0.0
    cooldown_until: Mapping[str, float] = field(default_factory=dict)
    open_breakers: Mapping[str, float] = field(default_factory=dict)  # model → open until
    rate_limited_until: Mapping[str, float] = field(default_factory=dict)
    budget_remaining_usd: Decimal | None = None


EMPTY_STATE = LiveState()


@dataclass(frozen=True, slots=True)
class Candidate:
    model_id: str
    provider: str
    tier: str
    free: bool
    estimated_cost_usd: Decimal | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "provider": self.provider,
            "tier": self.tier,
            "free": self.free,
            "estimated_cost_usd": None
            if self.estimated_cost_usd is None
            else format_usd(self.estimated_cost_usd),
        }


@dataclass(frozen=True, slots=True)
class Rejection:
    """A candidate that was dropped: ``code`` for programs, ``reason`` for people."""

    model_id: str
    code: str
    reason: str
    estimated_cost_usd: Decimal | None = None  # for cost_cap and budget drops

    def to_dict(self) -> dict[str, str]:
        return {"model": self.model_id, "code": self.code, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Decision:
    tier: str
    chosen: Candidate | None
    fallbacks: tuple[Candidate, ...]
    rejected: tuple[Rejection, ...]
    requirements: Requirements = Requirements()

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        """The chosen model, then its fallbacks, in the order they will be tried."""
        return (self.chosen, *self.fallbacks) if self.chosen else ()

    def explain(self) -> list[str]:
        lines = [f"tier {self.tier}; requirements: {', '.join(self.requirements.names()) or '-'}"]
        for index, candidate in enumerate(self.candidates):
            role = "chosen" if index == 0 else f"fallback {index}"
            cost = candidate.estimated_cost_usd
            price = "cost unknown" if cost is None else f"≤ ${format_usd(cost)}"
            free = ", free" if candidate.free else ""
            lines.append(f"{role}: {candidate.model_id} ({price}{free})")
        for rejection in self.rejected:
            lines.append(f"dropped {rejection.model_id}: {rejection.reason}")
        if self.chosen is None:
            lines.append("no candidate is left")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "requirements": self.requirements.names(),
            "chosen": self.chosen.to_dict() if self.chosen else None,
            "fallbacks": [c.to_dict() for c in self.fallbacks],
            "rejected": [r.to_dict() for r in self.rejected],
        }


def estimate_cost(price: ModelPrice, input_tokens: int, output_tokens: int) -> Decimal:
    """Upper bound before the call: every prompt token uncached, ``max_tokens`` of output."""
    rates = price.rates_for(input_tokens)
    return (input_tokens * rates.input + output_tokens * rates.output) / MILLION


def select(
    models: Sequence[str],
    *,
    catalog: Catalog,
    tier: str,
    require: Requirements = Requirements(),
    context_tokens: int = 0,
    max_output_tokens: int = 0,
    max_cost_usd: Decimal | None = None,
    prefer_free: bool = True,
    order_by_cost: bool = True,
    unavailable_providers: Mapping[str, str] | None = None,
    allowed_providers: frozenset[str] | None = None,
    state: LiveState = EMPTY_STATE,
    on: date | None = None,
) -> Decision:
    """Choose among ``models`` (ordered candidate ids); pure.

    Order: free models first (unless ``prefer_free`` is False), then paid ones by estimated
    cost for this request (``order_by_cost``) or as listed; ties keep the listed order.
    ``unavailable_providers`` maps a provider to why it cannot be used (e.g. no API key).
    """
    kept: list[tuple[int, int, Decimal, int, Candidate]] = []
    rejected: list[Rejection] = []
    seen: set[str] = set()
    budget = state.budget_remaining_usd
    ordinal = today_ordinal() if on is None else on.toordinal()
    prices = catalog.prices
    for position, name in enumerate(models):
        spec = catalog.find(name)
        if spec is None:
            rejected.append(Rejection(name, "unknown_model", "not in the catalog"))
            continue
        if spec.model_id in seen:
            continue
        seen.add(spec.model_id)
        reason = _static_rejection(
            spec, require, context_tokens, max_output_tokens, unavailable_providers,
            allowed_providers,
        ) or _live_rejection(spec.model_id, state)
        if reason is not None:
            rejected.append(Rejection(spec.model_id, *reason))
            continue
        price = prices.price_on_ordinal(spec.pricing_ref, ordinal)
        cost = None if price is None else estimate_cost(price, context_tokens, max_output_tokens)
        if cost is None and (max_cost_usd is not None or budget is not None):
            rejected.append(Rejection(spec.model_id, "price_unknown",
                                      "no price, so the cost cap or budget cannot be checked"))
            continue
        if cost is not None and max_cost_usd is not None and cost > max_cost_usd:
            rejected.append(Rejection(
                spec.model_id, "cost_cap",
                f"estimated ${format_usd(cost)} exceeds the per-request cap "
                f"${format_usd(max_cost_usd)}"))
            continue
        if cost is not None and budget is not None and cost > budget:
            rejected.append(Rejection(
                spec.model_id, "budget",
                f"estimated ${format_usd(cost)} exceeds the remaining budget "
                f"${format_usd(budget)}", cost))
            continue
        free = spec.free or (price is not None and price.is_free)
        candidate = Candidate(spec.model_id, spec.provider, tier, free, cost)
        free_rank = 0 if (free and prefer_free) else 1
        cost_key = cost if (order_by_cost and cost is not None) else Decimal(0)
        unknown_last = 1 if (order_by_cost and cost is None and not free) else 0
        kept.append((free_rank, unknown_last, cost_key, position, candidate))
    kept.sort(key=lambda row: row[:4])
    ordered = tuple(row[4] for row in kept)
    return Decision(
        tier=tier,
        chosen=ordered[0] if ordered else None,
        fallbacks=ordered[1:],
        rejected=tuple(rejected),
        requirements=require,
    )


def _static_rejection(
    spec: ModelSpec,
    require: Requirements,
    context_tokens: int,
    max_output_tokens: int,
    unavailable_providers: Mapping[str, str] | None,
    allowed_providers: frozenset[str] | None,
) -> tuple[str, str] | None:
    if allowed_providers is not None and spec.provider not in allowed_providers:
        return "provider_filter", f"provider {spec.provider!r} is not among the allowed ones"
    if unavailable_providers and spec.provider in unavailable_providers:
        return "provider_unavailable", unavailable_providers[spec.provider]
    if require.fast and spec.speed_class is not SpeedClass.FAST:
        return "not_fast", f"speed class {spec.speed_class or 'unknown'}; fast required"
    if require.quality and spec.quality_class not in _QUALITY_OK:
        return "not_quality", (
            f"quality class {spec.quality_class or 'unknown'}; high or frontier required"
        )
    if require.capabilities:
        missing = require.capabilities - spec.effective_capabilities()
        if missing:
            return "capability", "lacks " + ", ".join(sorted(c.value for c in missing))
    window = spec.metadata.context_window_input
    if context_tokens > window:
        return "context", (
            f"prompt of ~{context_tokens:,} tokens exceeds its {window:,}-token window"
        )
    if max_output_tokens > spec.metadata.context_window_output:
        return "output", (
            f"max_tokens {max_output_tokens:,} exceeds its "
            f"{spec.metadata.context_window_output:,}-token output limit"
        )
    return None


def _live_rejection(model_id: str, state: LiveState) -> tuple[str, str] | None:
    now = state.now
    until = state.open_breakers.get(model_id)
    if until is not None and until > now:
        return "breaker_open", f"circuit breaker open for another {until - now:.1f}s"
    until = state.cooldown_until.get(model_id)
    if until is not None and until > now:
        return "cooldown", f"cooling down after a rate limit for another {until - now:.1f}s"
    until = state.rate_limited_until.get(model_id)
    if until is not None and until > now:
        return "rate_limited", f"local rate limit reached for another {until - now:.1f}s"
    return None
