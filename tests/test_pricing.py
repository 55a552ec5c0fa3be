"""Exact pricing: Decimal arithmetic, tiers, cache, reasoning, dates, unknown prices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from modelrouter.catalog.loader import Catalog
from modelrouter.catalog.pricing import Usage, format_usd, price_usage
from modelrouter.errors import CatalogError, PricingError
from tests.helpers import model_doc, write_model, write_pricing


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    write_model(tmp_path, model_doc("acme:big"))
    write_model(tmp_path, model_doc("acme:thinker"))
    write_model(tmp_path, model_doc("acme:unpriced"))
    write_pricing(
        tmp_path,
        "acme",
        [
            {
                "effective_date": "2025-01-01",
                "models": {
                    "big": {
                        "input": "2", "output": "8", "cache_read": "0.5", "cache_write": "2.5",
                        "tiers": [{"above_input_tokens": 200000, "input": "4", "output": "12",
                                   "cache_read": "1"}],
                    },
                    "thinker": {"input": "1.10", "output": "4.40", "reasoning": "6"},
                },
            },
            {
                "effective_date": "2025-06-01",
                "models": {"big": {"input": "1.5", "output": "6"}},
            },
            {"effective_date": "2026-01-01", "models": {"thinker": None}},
        ],
    )
    return Catalog.load(tmp_path)


def test_itemised_cost_is_exact_decimal(catalog: Catalog) -> None:
    price = catalog.price("acme:big", on=date(2025, 3, 1))
    assert price is not None
    usage = Usage(input_tokens=10_000, output_tokens=2_000, cached_input_tokens=4_000,
                  cache_write_tokens=1_000)
    cost = price_usage(price, usage, "acme:big")
    assert cost.input == Decimal("0.010")  # 5,000 uncached × $2/M
    assert cost.cached_read == Decimal("0.002")  # 4,000 × $0.5/M
    assert cost.cache_write == Decimal("0.0025")  # 1,000 × $2.5/M
    assert cost.output == Decimal("0.016")
    assert cost.total == Decimal("0.0305")
    assert cost.tier_above_input_tokens is None


def test_no_float_drift_over_many_small_calls(catalog: Catalog) -> None:
    price = catalog.price("acme:thinker", on=date(2025, 3, 1))
    assert price is not None
    one = price_usage(price, Usage(input_tokens=3, output_tokens=7), "acme:thinker").total
    total = sum((one for _ in range(1_000_000)), Decimal(0))
    assert total == one * 1_000_000 == Decimal("34.1")


def test_tier_applies_to_whole_request_above_threshold(catalog: Catalog) -> None:
    price = catalog.price("acme:big", on=date(2025, 3, 1))
    assert price is not None
    at = price_usage(price, Usage(input_tokens=200_000, output_tokens=1_000), "m")
    above = price_usage(price, Usage(input_tokens=200_001, output_tokens=1_000,
                                     cached_input_tokens=1), "m")
    assert at.tier_above_input_tokens is None
    assert at.input == Decimal("0.4")
    assert above.tier_above_input_tokens == 200_000
    assert above.input == Decimal("0.8")  # 200,000 uncached × $4/M
    assert above.cached_read == Decimal("0.000001")  # tier cache_read $1/M
    assert above.output == Decimal("0.012")


def test_tier_cache_write_defaults_to_tier_input(catalog: Catalog) -> None:
    price = catalog.price("acme:big", on=date(2025, 3, 1))
    assert price is not None
    cost = price_usage(price, Usage(input_tokens=300_000, cache_write_tokens=100_000), "m")
    assert cost.cache_write == Decimal("0.4")


def test_reasoning_billed_at_own_rate_else_output(catalog: Catalog) -> None:
    thinker = catalog.price("acme:thinker", on=date(2025, 3, 1))
    big = catalog.price("acme:big", on=date(2025, 3, 1))
    assert thinker is not None and big is not None
    usage = Usage(input_tokens=0, output_tokens=1_000_000, reasoning_tokens=250_000)
    cost = price_usage(thinker, usage, "t")
    assert cost.output == Decimal("3.30")  # 750,000 × 4.40
    assert cost.reasoning == Decimal("1.5")  # 250,000 × 6
    as_output = price_usage(big, usage, "b")
    assert as_output.reasoning == Decimal("2")  # 250,000 × $8/M output price


def test_price_on_a_past_date_and_history(catalog: Catalog) -> None:
    old = catalog.price("acme:big", on=date(2025, 5, 31))
    new = catalog.price("acme:big", on=date(2025, 6, 1))
    assert old is not None and new is not None
    assert (old.input, old.output) == (Decimal("2"), Decimal("8"))
    assert (new.input, new.output) == (Decimal("1.5"), Decimal("6"))
    assert catalog.price("acme:big", on=date(2024, 12, 31)) is None
    assert catalog.prices.history_dates("acme/big") == [date(2025, 1, 1), date(2025, 6, 1)]


def test_retired_price_and_unpriced_model_are_none(catalog: Catalog) -> None:
    assert catalog.price("acme:thinker", on=date(2026, 2, 1)) is None
    assert catalog.price("acme:unpriced") is None
    issues = {i.model: i.message for i in catalog.check()}
    assert "unknown" in issues["acme:unpriced"]


@pytest.mark.parametrize(
    ("usage", "field"),
    [
        ({"input_tokens": 10, "cached_input_tokens": 11}, "exceed input tokens"),
        ({"output_tokens": 1, "reasoning_tokens": 2}, "reasoning tokens"),
        ({"input_tokens": -1}, "usage.input_tokens"),
        ({"input_tokens": 1.5}, "usage.input_tokens"),
    ],
)
def test_inconsistent_usage_is_a_clear_error(usage: dict[str, int], field: str) -> None:
    with pytest.raises(PricingError, match=field):
        Usage(**usage)


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("18"), "18.00"),
        (Decimal("18.000"), "18.00"),
        (Decimal("0.5"), "0.50"),
        (Decimal("0.000125"), "0.000125"),
        (Decimal("0.0305000"), "0.0305"),
        (Decimal("0"), "0.00"),
    ],
)
def test_format_usd(amount: Decimal, text: str) -> None:
    assert format_usd(amount) == text


@pytest.mark.parametrize(
    ("versions", "message"),
    [
        ([{"effective_date": "2025-01-01", "models": {"x": {"input": "-1", "output": "1"}}}],
         "models.x.input"),
        ([{"effective_date": "2025-01-01", "models": {"x": {"input": "1", "outptu": "1"}}}],
         "outptu: unknown field"),
        ([{"effective_date": "2025-01-01", "models": {}},
          {"effective_date": "2025-01-01", "models": {}}], "share an effective_date"),
        ([{"effective_date": "not a date", "models": {}}], "effective_date"),
        ([{"effective_date": "2025-01-01", "models": {"x": {
            "input": "1", "output": "1",
            "tiers": [{"above_input_tokens": 5, "input": "1", "output": "1"},
                      {"above_input_tokens": 2, "input": "1", "output": "1"}]}}}],
         "strictly ascending"),
    ],
)
def test_bad_pricing_file_names_file_and_field(
    tmp_path: Path, versions: list[dict[str, object]], message: str
) -> None:
    write_model(tmp_path, model_doc("acme:x"))
    path = write_pricing(tmp_path, "acme", versions)
    with pytest.raises(CatalogError) as info:
        Catalog.load(tmp_path)
    assert str(path) in str(info.value)
    assert message in str(info.value)
