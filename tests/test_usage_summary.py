"""Summaries with hand-computed expectations, and the seed's usage API."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from modelrouter.catalog import get_catalog
from modelrouter.catalog.pricing import ModelPrice, Usage
from modelrouter.config import load_config
from modelrouter.routing.records import AttemptRecord
from modelrouter.usage.ledger import SqliteLedger
from modelrouter.usage.seed import (
    close_default_ledgers,
    default_ledger,
    get_usage_summary,
    record_model_usage,
)
from modelrouter.usage.summary import (
    PaidBaseline,
    cheapest_paid_by_tier,
    percentile,
    summarize,
    summarize_ledger,
)

DAY1 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY2 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
PAID_PRICE = ModelPrice(
    pricing_ref="acme/paid", effective_date=date(2026, 1, 1), input=Decimal("1"),
    output=Decimal("4"), cache_read=Decimal("0.1"), cache_write=Decimal("1.25"),
    reasoning=Decimal("4"),
)
BASELINES = {"balanced": PaidBaseline("balanced", "acme:paid", PAID_PRICE)}


def row(request_id: str, model: str, *, when: datetime = DAY1, **changes: object) -> AttemptRecord:
    base = AttemptRecord(
        request_id=request_id, time=when, model=model, provider=model.split(":")[0],
        tier="balanced", outcome="success", fallback_depth=0, free=model == "acme:free",
        usage=None, cost_usd=None, latency_s=0.1,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def ledger_rows() -> list[AttemptRecord]:
    """Four requests, five attempts (see the expectations in each test)."""
    return [
        # A: the free model fails, the paid one answers at fallback depth 1.
        row("A", "acme:free", outcome="error", latency_s=0.1, error_class="RateLimitError"),
        row("A", "acme:paid", fallback_depth=1, latency_s=0.3, ttft_s=0.05,
            usage=Usage(input_tokens=1000, output_tokens=500), cost_usd=Decimal("0.002"),
            key="team-a", task="chat"),
        # B: the free model answers on day 2.
        row("B", "acme:free", when=DAY2, latency_s=0.2, ttft_s=0.04,
            usage=Usage(input_tokens=2000, output_tokens=1000), cost_usd=Decimal(0)),
        # C: a cache hit of the paid model: cost 0, saving recorded.
        row("C", "acme:paid", when=DAY2, latency_s=0.01, cache_hit=True,
            usage=Usage(input_tokens=1000, output_tokens=500), cost_usd=Decimal(0),
            saved_usd=Decimal("0.003")),
        # D: every attempt failed.
        row("D", "acme:paid", when=DAY2, outcome="error", latency_s=1.0),
    ]


@pytest.mark.parametrize(("p", "expected"), [(5, 15), (30, 20), (40, 20), (50, 35), (100, 50)])
def test_nearest_rank_percentile(p: float, expected: float) -> None:
    assert percentile([50, 15, 40, 35, 20], p) == expected


def test_percentile_edges() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 99) == 7.0
    assert percentile(list(range(1, 101)), 95) == 95
    assert percentile(list(range(1, 101)), 99) == 99


def test_total_row_hand_computed() -> None:
    total = summarize(ledger_rows(), "model", baselines=BASELINES).total
    assert total.is_total and total.group == "total"
    assert (total.requests, total.attempts, total.successes) == (4, 5, 3)
    assert total.success_rate == 0.75
    assert (total.input_tokens, total.output_tokens, total.tokens) == (4000, 2000, 6000)
    assert total.cost_usd == Decimal("0.002")
    # Latencies sorted: 10, 100, 200, 300, 1000 ms.
    assert total.latency_p50_ms == pytest.approx(200)
    assert total.latency_p95_ms == pytest.approx(1000)
    assert total.latency_p99_ms == pytest.approx(1000)
    assert total.ttft_p50_ms == pytest.approx(40)
    assert total.ttft_p95_ms == pytest.approx(50)
    # Answered: A (depth 1), B (free), C (cache hit).
    assert total.fallback_rate == pytest.approx(1 / 3)
    assert total.cache_hit_rate == pytest.approx(1 / 3)
    assert total.free_share == pytest.approx(1 / 3)
    # At $1 in / $4 out per million: A 0.003 - 0.002, B 0.006 - 0, C 0.003 - 0.
    assert total.savings_usd == Decimal("0.010")


def test_groups_by_model() -> None:
    summary = summarize(ledger_rows(), "model", baselines=BASELINES)
    free, paid = summary.groups
    assert (free.group, paid.group) == ("acme:free", "acme:paid")
    assert (free.requests, free.attempts, free.successes) == (2, 2, 1)
    assert free.success_rate == 0.5 and free.free_share == 1.0 and free.fallback_rate == 0.0
    assert free.savings_usd == Decimal("0.006") and free.cost_usd == 0
    assert (paid.requests, paid.attempts, paid.successes) == (3, 3, 2)
    assert paid.success_rate == pytest.approx(2 / 3)
    assert paid.fallback_rate == 0.5 and paid.cache_hit_rate == 0.5 and paid.free_share == 0
    assert paid.savings_usd == Decimal("0.004")


def test_groups_by_day_month_key_and_task() -> None:
    rows = ledger_rows()
    by_day = summarize(rows, "day", baselines=BASELINES)
    assert [(g.group, g.requests, g.attempts) for g in by_day.groups] == [
        ("2026-11-02", 1, 2), ("2026-11-03", 3, 3)]
    assert [g.group for g in summarize(rows, "month").groups] == ["2026-11"]
    assert [(g.group, g.requests) for g in summarize(rows, "key").groups] == [
        ("(none)", 4), ("team-a", 1)]
    assert [g.group for g in summarize(rows, "task").groups] == ["(none)", "chat"]
    assert summarize(rows, "provider").total.requests == 4


def test_without_baselines_savings_are_zero_and_empty_is_empty() -> None:
    assert summarize(ledger_rows(), "tier").total.savings_usd == 0
    empty = summarize([], "day")
    assert empty.empty and empty.groups == () and empty.total.success_rate is None
    with pytest.raises(ValueError, match="cannot group by 'week'"):
        summarize([], "week")  # type: ignore[arg-type]


def test_to_dict_keeps_money_exact() -> None:
    data = summarize(ledger_rows(), "model", baselines=BASELINES).to_dicts()
    assert data[-1]["cost_usd"] == "0.002" and data[-1]["savings_usd"] == "0.01"
    assert data[-1]["is_total"] is True and data[0]["group"] == "acme:free"


def test_cheapest_paid_model_per_tier_from_the_bundled_catalog() -> None:
    config = load_config()
    catalog = get_catalog()
    baselines = cheapest_paid_by_tier(config)
    assert set(baselines) == set(config.tiers)
    for tier, baseline in baselines.items():
        assert baseline.model in config.tiers[tier].models
        assert not baseline.price.is_free
        for model in config.tiers[tier].models:
            spec = catalog.get(model)
            price = catalog.prices.price(spec.pricing_ref)
            if price is not None and not price.is_free and not spec.free:
                assert baseline.price.blended <= price.blended


def test_summarize_ledger_prices_savings_from_the_config(tmp_path: Path) -> None:
    config = load_config()
    tier = config.tiers["balanced"]
    free_model = next(m for m in tier.models if get_catalog().get(m).free)
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    with SqliteLedger(tmp_path / "u.db") as ledger:
        ledger.record(row("R", free_model, tier="balanced", free=True, usage=usage,
                          cost_usd=Decimal(0)))
        ledger.record(row("old", free_model, when=DAY1 - timedelta(days=40)))
        summary = summarize_ledger(ledger, "model", since=date(2026, 11, 1),
                                   until=date(2026, 12, 1), config=config)
    baseline = cheapest_paid_by_tier(config)["balanced"].price
    assert summary.total.requests == 1
    assert summary.total.savings_usd == baseline.input + baseline.output > 0
    assert summary.since == datetime(2026, 11, 1, tzinfo=UTC)


# --------------------------------------------------------------------------- seed API


def test_seed_record_and_summary_use_the_default_ledger() -> None:
    try:
        record_model_usage("gpt-5-mini", 1500, True)
        record_model_usage("openai:gpt-5-mini", 500, False)
        record_model_usage("anthropic:claude-haiku-4-5", 1000, True)
        record_model_usage("someone:unknown-model", 10, True)
        summary = get_usage_summary()
        mini = get_catalog().price("openai:gpt-5-mini")
        haiku = get_catalog().price("anthropic:claude-haiku-4-5")
        assert mini is not None and haiku is not None
        # 3/4 input, 1/4 output: 1500 → 1125 + 375, 500 → 375 + 125, 1000 → 750 + 250.
        expected = (1500 * mini.input + 500 * mini.output
                    + 750 * haiku.input + 250 * haiku.output) / Decimal(1_000_000)
        assert expected == (2000 * mini.blended + 1000 * haiku.blended) / Decimal(1_000_000)
        for window in ("today", "this_month"):
            assert summary[window]["requests"] == 4
            assert summary[window]["tokens"] == 3010
            assert summary[window]["cost"] == expected
        assert summary["total_models"] == 3  # distinct models ever recorded
        rows = default_ledger().records()
        assert rows[0].model == "openai:gpt-5-mini" and rows[0].tier == "balanced"
        assert rows[1].outcome == "error" and rows[3].cost_usd is None
    finally:
        close_default_ledgers()


def test_seed_summary_windows_are_utc_day_and_month(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "u.db") as ledger:
        ledger.record(row("today", "acme:free", when=DAY2, usage=Usage(input_tokens=5),
                          cost_usd=Decimal("0.5")))
        ledger.record(row("month", "acme:free", when=DAY1, usage=Usage(input_tokens=7)))
        ledger.record(row("before", "acme:paid", when=DAY1 - timedelta(days=30)))
        summary = get_usage_summary(ledger=ledger, now=DAY2 + timedelta(hours=1))
    assert summary["today"] == {"requests": 1, "tokens": 5, "cost": Decimal("0.5")}
    assert summary["this_month"] == {"requests": 2, "tokens": 12, "cost": Decimal("0.5")}
    assert summary["total_models"] == 2


def test_seed_rejects_bad_token_counts(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "u.db") as ledger, pytest.raises(ValueError):
        record_model_usage("gpt-5-mini", -1, True, ledger=ledger)
