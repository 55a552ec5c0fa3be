"""Summaries of the ledger: per day, month, model, provider, tier, key or task, plus a total.

Pure over ``AttemptRecord`` rows (``summarize``); ``summarize_ledger`` reads the rows of a
time range first. Definitions, per group:

- ``requests``: distinct request ids with an attempt in the group; ``attempts``: rows.
- ``successes``: successful attempts (the answering ones: at most one per request);
  ``success_rate`` = successes / requests.
- tokens and ``cost_usd``: summed over every attempt (failed ones can cost too); an unknown
  cost counts as 0.
- latency and TTFT percentiles: over every attempt's value in the group, exact, by the
  nearest-rank method (the smallest value with at least p % of the values at or below it);
  None when there are no values.
- ``fallback_rate``: share of answered requests whose answering attempt had fallback depth > 0;
  ``cache_hit_rate``: share of answered requests answered from the response cache;
  ``free_share``: share of answers that came from free models.
- ``savings_usd``: for each successful attempt with token counts, what those tokens would have
  cost on the cheapest paid model of its tier (today's prices, the config's tier lists) minus
  what it cost; negative when a pricier model answered. Attempts of an unknown tier add 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from modelrouter.catalog.pricing import ModelPrice, format_usd, price_usage
from modelrouter.routing.records import AttemptRecord

if TYPE_CHECKING:
    from modelrouter.catalog.loader import Catalog
    from modelrouter.config.schema import RouterConfig
    from modelrouter.usage.ledger import Ledger

GroupBy = Literal["day", "month", "model", "provider", "tier", "key", "task"]
GROUP_BY: tuple[GroupBy, ...] = ("day", "month", "model", "provider", "tier", "key", "task")
NONE_LABEL = "(none)"
TOTAL_LABEL = "total"
ZERO = Decimal(0)


def percentile(values: Sequence[float], p: float) -> float | None:
    """The nearest-rank percentile of ``values`` (need not be sorted); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class PaidBaseline:
    """The cheapest paid model of a tier, and its price today: what savings are measured from."""

    tier: str
    model: str
    price: ModelPrice


def cheapest_paid_by_tier(
    config: RouterConfig, catalog: Catalog | None = None, on: date | None = None
) -> dict[str, PaidBaseline]:
    """For each tier, its cheapest paid model (lowest blended price; first listed on a tie)."""
    from modelrouter.catalog.loader import get_catalog

    cat = catalog or get_catalog()
    out: dict[str, PaidBaseline] = {}
    for tier, settings in config.tiers.items():
        best: PaidBaseline | None = None
        for model in settings.models:
            spec = cat.find(model)
            if spec is None or spec.free:
                continue
            price = cat.prices.price(spec.pricing_ref, on)
            if price is None or price.is_free:
                continue
            if best is None or price.blended < best.price.blended:
                best = PaidBaseline(tier, spec.model_id, price)
        if best is not None:
            out[tier] = best
    return out


@dataclass(frozen=True, slots=True)
class UsageGroup:
    """The figures of one group (or of the total: ``group == "total"``, ``is_total``)."""

    group: str
    requests: int
    attempts: int
    successes: int
    success_rate: float | None
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    reasoning_tokens: int
    cost_usd: Decimal
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    ttft_p99_ms: float | None
    fallback_rate: float | None
    cache_hit_rate: float | None
    free_share: float | None
    savings_usd: Decimal
    is_total: bool = False

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: money as exact decimal strings, rates as floats (0–1)."""
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        data["cost_usd"] = format_usd(self.cost_usd)
        data["savings_usd"] = format_usd(self.savings_usd)
        return data


@dataclass(frozen=True, slots=True)
class UsageSummary:
    by: GroupBy
    since: datetime | None
    until: datetime | None
    groups: tuple[UsageGroup, ...]
    total: UsageGroup

    @property
    def empty(self) -> bool:
        return self.total.attempts == 0

    def to_dicts(self) -> list[dict[str, Any]]:
        """Every group then the total, as dicts (``--json``)."""
        return [g.to_dict() for g in (*self.groups, self.total)]


def group_key(record: AttemptRecord, by: GroupBy) -> str:
    if by == "day":
        return record.time.date().isoformat()
    if by == "month":
        return record.time.strftime("%Y-%m")
    value: str | None = getattr(record, by)
    return value if value else NONE_LABEL


@dataclass(slots=True)
class _Accumulator:
    rows: list[AttemptRecord] = field(default_factory=list)

    def build(self, label: str, baselines: Mapping[str, PaidBaseline], is_total: bool = False
              ) -> UsageGroup:
        rows = self.rows
        requests = {r.request_id for r in rows}
        answers = [r for r in rows if r.success]
        answered = {r.request_id: r for r in answers}
        latencies = [r.latency_s * 1000 for r in rows]
        ttfts = [r.ttft_s * 1000 for r in rows if r.ttft_s is not None]

        def share(count: int, of: int) -> float | None:
            return count / of if of else None

        def tokens(name: str) -> int:
            return sum(getattr(r.usage, name) for r in rows if r.usage is not None)

        return UsageGroup(
            group=label,
            requests=len(requests),
            attempts=len(rows),
            successes=len(answers),
            success_rate=share(len(answered), len(requests)),
            input_tokens=tokens("input_tokens"),
            output_tokens=tokens("output_tokens"),
            cached_tokens=tokens("cached_input_tokens"),
            reasoning_tokens=tokens("reasoning_tokens"),
            cost_usd=sum((r.cost_usd for r in rows if r.cost_usd is not None), ZERO),
            latency_p50_ms=percentile(latencies, 50),
            latency_p95_ms=percentile(latencies, 95),
            latency_p99_ms=percentile(latencies, 99),
            ttft_p50_ms=percentile(ttfts, 50),
            ttft_p95_ms=percentile(ttfts, 95),
            ttft_p99_ms=percentile(ttfts, 99),
            fallback_rate=share(sum(1 for r in answered.values() if r.fallback_depth > 0),
                                len(answered)),
            cache_hit_rate=share(sum(1 for r in answered.values() if r.cache_hit),
                                 len(answered)),
            free_share=share(sum(1 for r in answers if r.free), len(answers)),
            savings_usd=sum((saving(r, baselines) for r in answers), ZERO),
            is_total=is_total,
        )


def saving(record: AttemptRecord, baselines: Mapping[str, PaidBaseline]) -> Decimal:
    """``record``'s tokens priced on its tier's cheapest paid model, minus what it cost."""
    if not record.success or record.usage is None:
        return ZERO
    baseline = baselines.get(record.tier)
    if baseline is None:
        return ZERO
    paid = price_usage(baseline.price, record.usage, baseline.model).total
    return paid - (record.cost_usd or ZERO)


def summarize(
    records: Iterable[AttemptRecord],
    by: GroupBy,
    *,
    baselines: Mapping[str, PaidBaseline] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> UsageSummary:
    """Group ``records`` by ``by`` (groups sorted by key) and add the total (pure).

    ``baselines`` (from ``cheapest_paid_by_tier``) prices the savings; without it they are 0.
    ``since`` / ``until`` are only reported: filter the records before calling.
    """
    if by not in GROUP_BY:
        raise ValueError(f"cannot group by {by!r}; choose one of {', '.join(GROUP_BY)}")
    paid = baselines or {}
    groups: dict[str, _Accumulator] = {}
    everything = _Accumulator()
    for record in records:
        groups.setdefault(group_key(record, by), _Accumulator()).rows.append(record)
        everything.rows.append(record)
    return UsageSummary(
        by=by,
        since=since,
        until=until,
        groups=tuple(groups[k].build(k, paid) for k in sorted(groups)),
        total=everything.build(TOTAL_LABEL, paid, is_total=True),
    )


def summarize_ledger(
    ledger: Ledger,
    by: GroupBy,
    since: datetime | date | None = None,
    until: datetime | date | None = None,
    *,
    config: RouterConfig | None = None,
) -> UsageSummary:
    """Summarise the ledger's attempts with ``since <= time < until`` (UTC).

    Savings are priced from ``config``'s tiers (default: ``load_config()``) at today's prices.
    """
    from modelrouter.usage.ledger import as_utc

    if config is None:
        from modelrouter.config import load_config

        config = load_config()
    start = None if since is None else as_utc(since)
    end = None if until is None else as_utc(until)
    return summarize(
        ledger.records(start, end), by, baselines=cheapest_paid_by_tier(config),
        since=start, until=end,
    )
