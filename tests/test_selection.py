"""Selection as a pure function: order, requirements, costs, live state, explanations."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from modelrouter.catalog.loader import Catalog, bundled_catalog_dir
from modelrouter.errors import ConfigError
from modelrouter.routing.selection import LiveState, Requirements, select
from tests.helpers import model_doc, write_model, write_pricing

BASE = ["text_input", "text_output", "streaming"]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    root: Path = tmp_path_factory.mktemp("cat")
    write_model(root, model_doc("acme:pricey", speed_class="slow", quality_class="frontier",
                                capabilities=[*BASE, "function_calling"]))
    write_model(root, model_doc("acme:mid", speed_class="standard", quality_class="high",
                                capabilities=[*BASE, "function_calling"]))
    write_model(root, model_doc("acme:cheap", speed_class="fast", quality_class="basic",
                                metadata={"context_window_input": 8000,
                                          "context_window_output": 2000}))
    write_model(root, model_doc("zfree:gift", free=True, speed_class="fast",
                                quality_class="standard"))
    write_model(root, model_doc("acme:nopricing"))
    write_pricing(root, "acme", [{"effective_date": "2025-01-01", "models": {
        "pricey": {"input": "10", "output": "40"},
        "mid": {"input": "1", "output": "4"},
        "cheap": {"input": "0.1", "output": "0.4"},
    }}])
    write_pricing(root, "zfree", [{"effective_date": "2025-01-01", "models": {
        "gift": {"input": "0", "output": "0"}}}])
    return Catalog.load(root)


ALL = ["acme:pricey", "acme:mid", "acme:cheap", "zfree:gift", "acme:nopricing"]


def ids(decision) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.model_id for c in decision.candidates]


def test_free_first_then_cheapest(catalog: Catalog) -> None:
    decision = select(ALL, catalog=catalog, tier="balanced", context_tokens=1000,
                      max_output_tokens=100)
    assert ids(decision) == ["zfree:gift", "acme:cheap", "acme:mid", "acme:pricey",
                             "acme:nopricing"]
    assert decision.chosen is not None and decision.chosen.free
    assert decision.fallbacks[0].estimated_cost_usd == Decimal("0.00014")


def test_listed_order_when_not_by_cost_and_free_not_preferred(catalog: Catalog) -> None:
    decision = select(ALL, catalog=catalog, tier="fast", prefer_free=False, order_by_cost=False)
    assert ids(decision) == ALL


@pytest.mark.parametrize(
    ("kwargs", "dropped", "code"),
    [
        ({"require": Requirements.parse(["fast"])}, "acme:mid", "not_fast"),
        ({"require": Requirements.parse(["quality"])}, "acme:cheap", "not_quality"),
        ({"require": Requirements.parse(["function_calling"])}, "acme:cheap", "capability"),
        ({"context_tokens": 9000}, "acme:cheap", "context"),
        ({"max_output_tokens": 4000}, "acme:cheap", "output"),
        ({"max_cost_usd": Decimal("0.0009"), "context_tokens": 1000}, "acme:mid", "cost_cap"),
        ({"max_cost_usd": Decimal("1")}, "acme:nopricing", "price_unknown"),
        ({"state": LiveState(budget_remaining_usd=Decimal("0.005")), "context_tokens": 1000},
         "acme:pricey", "budget"),
        ({"unavailable_providers": {"acme": "no API key: set ACME_API_KEY"}}, "acme:mid",
         "provider_unavailable"),
        ({"allowed_providers": frozenset({"zfree"})}, "acme:mid", "provider_filter"),
        ({"state": LiveState(now=10, cooldown_until={"acme:mid": 12})}, "acme:mid", "cooldown"),
        ({"state": LiveState(now=10, open_breakers={"acme:mid": 40})}, "acme:mid",
         "breaker_open"),
        ({"state": LiveState(now=10, rate_limited_until={"acme:mid": 11})}, "acme:mid",
         "rate_limited"),
    ],
)
def test_each_rule_drops_with_a_reason(
    catalog: Catalog, kwargs: dict[str, object], dropped: str, code: str
) -> None:
    decision = select(ALL, catalog=catalog, tier="balanced", **kwargs)  # type: ignore[arg-type]
    assert dropped not in ids(decision)
    reasons = {r.model_id: r for r in decision.rejected}
    assert reasons[dropped].code == code
    assert any(dropped in line for line in decision.explain())


def test_expired_live_state_does_not_drop(catalog: Catalog) -> None:
    state = LiveState(now=100, cooldown_until={"acme:mid": 50}, open_breakers={"acme:mid": 99})
    assert "acme:mid" in ids(select(ALL, catalog=catalog, tier="t", state=state))


def test_nothing_left_explains_why(catalog: Catalog) -> None:
    decision = select(["acme:cheap"], catalog=catalog, tier="fast", context_tokens=50_000)
    assert decision.chosen is None
    assert decision.explain()[-1] == "no candidate is left"
    assert decision.to_dict()["rejected"][0]["code"] == "context"


def test_unknown_and_duplicate_candidates(catalog: Catalog) -> None:
    decision = select(["acme:mid", "mid", "acme:ghost"], catalog=catalog, tier="t")
    assert ids(decision) == ["acme:mid"]
    assert decision.rejected[0].code == "unknown_model"


def test_unknown_requirement_suggests() -> None:
    with pytest.raises(ConfigError, match="did you mean 'function_calling'"):
        Requirements.parse(["function_caling"])


def test_tiered_price_used_in_estimate() -> None:
    catalog = Catalog.load(bundled_catalog_dir())
    small = select(["google:gemini-2.5-pro"], catalog=catalog, tier="advanced",
                   context_tokens=100_000, max_output_tokens=1000).chosen
    large = select(["google:gemini-2.5-pro"], catalog=catalog, tier="advanced",
                   context_tokens=300_000, max_output_tokens=1000).chosen
    assert small is not None and large is not None
    assert small.estimated_cost_usd == Decimal("0.135")  # 100K × 1.25 + 1K × 10
    assert large.estimated_cost_usd == Decimal("0.765")  # 300K × 2.5 + 1K × 15
