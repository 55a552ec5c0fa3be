"""Recommendations: free share advice, top models, cheaper same-quality switches."""

from __future__ import annotations

from decimal import Decimal

from modelrouter.catalog.loader import get_catalog
from modelrouter.catalog.pricing import Usage, format_usd, price_usage
from modelrouter.usage.recommend import PairUsage, recommend


def pair(model: str, requests: int, tokens_in: int, tokens_out: int, task: str | None = None,
         free: bool = False) -> PairUsage:
    catalog = get_catalog()
    spec = catalog.get(model)
    price = catalog.prices.price(spec.pricing_ref)
    assert price is not None
    cost = price_usage(price, Usage(tokens_in, tokens_out), spec.model_id).total
    return PairUsage(spec.model_id, task, requests, tokens_in, tokens_out, 0, cost, free)


def test_switch_to_cheaper_same_quality_model_with_monthly_projection() -> None:
    opus = pair("anthropic:claude-opus-4-5", 300, 3_000_000, 600_000, task="classification")
    result = recommend([opus], get_catalog(), days=10)
    [switch] = result.switches
    alternative = get_catalog().get(switch.alternative)
    original = get_catalog().get("anthropic:claude-opus-4-5")
    assert alternative.quality_class == original.quality_class
    assert {"function_calling", "image_input"} <= {c.value for c in
                                                   alternative.effective_capabilities()}
    assert switch.alternative_cost_usd < switch.current_cost_usd
    assert switch.monthly_saving_usd == (
        (switch.current_cost_usd - switch.alternative_cost_usd) * 30 / 10)
    assert result.to_dict()["projected_monthly_saving_usd"] == format_usd(
        switch.monthly_saving_usd)


def test_free_share_advice_and_top_models() -> None:
    free = pair("openrouter:openai/gpt-oss-20b:free", 50, 10_000, 5_000, free=True)
    paid = pair("openai:gpt-5-mini", 50, 10_000, 5_000)
    result = recommend([free, paid], get_catalog(), days=1)
    assert result.free_share == 0.5
    assert "under the 70%–90% target" in result.free_advice
    assert [m for m, _, _ in result.top_models] == [
        "openai:gpt-5-mini", "openrouter:openai/gpt-oss-20b:free"]
    all_free = recommend([free], get_catalog(), days=1)
    assert "over 90%" in all_free.free_advice
    assert recommend([], get_catalog(), days=1).free_advice == "no requests in this window"


def test_no_switch_when_nothing_cheaper_of_same_quality() -> None:
    free = pair("openrouter:openai/gpt-oss-20b:free", 10, 1000, 1000, free=True)
    assert recommend([free], get_catalog(), days=1).switches == []
    assert free.cost_usd == Decimal(0)
