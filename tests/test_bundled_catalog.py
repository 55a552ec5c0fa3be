"""The bundled catalog: complete, loadable, and priced exactly as the sources it names say.

Expected prices are recomputed here straight from the snapshot JSON (../shared/data) with
Decimal, independently of tools/build_catalog.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import modelrouter
from modelrouter.catalog.loader import Catalog, bundled_catalog_dir
from modelrouter.catalog.pricing import ModelPrice, PriceTier, Usage, price_usage
from modelrouter.catalog.schema import Capability, ModelSpec

REPO_ROOT = Path(__file__).resolve().parent.parent
PROVIDERS = {"openai", "anthropic", "google", "groq", "cohere", "mistral", "deepseek", "openrouter"}
ON = date(2026, 11, 25)  # the catalog's last_verified date
MILLION = Decimal(1_000_000)
LITELLM_FILES = {
    "litellm-1.109.1": "model_prices_and_context_window.json",
    "litellm-1.100.0": "model_prices_and_context_window.litellm-1.100.0.json",
}
LITELLM_PREFIX = {"google": "gemini/", "groq": "groq/", "mistral": "mistral/",
                  "deepseek": "deepseek/"}
# Models priced from a LiteLLM entry other than the provider's own, and why.
LITELLM_KEYS = {
    # The >200K tier only exists in the Bedrock / Vertex entries.
    "anthropic:claude-sonnet-4-5-1m": "claude-sonnet-4-5-20250929-v1:0",
}
OPENROUTER_LABEL = "openrouter-2026-05-15"

CATALOG = Catalog.load(bundled_catalog_dir())
MODEL_IDS = sorted(CATALOG.ids)


# --------------------------------------------------------------------------- expected prices


@dataclass
class Rates:
    """One rate card in USD per 1M tokens, with the catalog's defaults already applied."""

    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal
    tiers: list[tuple[int, Rates]] = field(default_factory=list)


def _rates(inp: Any, out: Any, cache_read: Any = None, cache_write: Any = None) -> Rates:
    i, o = Decimal(str(inp)), Decimal(str(out))
    return Rates(
        input=i,
        output=o,
        cache_read=i if cache_read is None else Decimal(str(cache_read)),
        cache_write=i if cache_write is None else Decimal(str(cache_write)),
    )


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


@pytest.fixture(scope="session")
def snapshots(shared_data: Path) -> dict[str, Any]:
    models_dev = _load(shared_data / "models_dev" / "models_dev_snapshot.json")
    openrouter = _load(shared_data / "openrouter" / "models_api_snapshot.json")["data"]
    data: dict[str, Any] = {
        "models.dev@" + models_dev["snapshot"]["commit"][:7]: models_dev["providers"],
        OPENROUTER_LABEL: {e["id"]: e for e in openrouter},
    }
    for label, name in LITELLM_FILES.items():
        data[label] = _load(shared_data / "litellm" / name)
    return data


def expected_rates(spec: ModelSpec, snapshots: dict[str, Any]) -> Rates:
    """The current price of ``spec`` per the source its provenance names."""
    assert spec.provenance is not None, f"{spec.model_id} has no provenance"
    label = spec.provenance.pricing
    assert label in snapshots, f"{spec.model_id}: unknown pricing source {label!r}"
    model = spec.model_id.split(":", 1)[1]
    if label.startswith("models.dev@"):
        cost = snapshots[label][spec.provider]["models"][model]["cost"]
        rates = _rates(cost["input"], cost["output"], cost.get("cache_read"),
                       cost.get("cache_write"))
        for tier in cost.get("tiers", ()):
            rates.tiers.append((int(tier["tier"]["size"]), _rates(
                tier["input"], tier["output"], tier.get("cache_read"), tier.get("cache_write"))))
        return rates
    if label.startswith("litellm-"):
        key = LITELLM_KEYS.get(spec.model_id, LITELLM_PREFIX.get(spec.provider, "") + model)
        entry = snapshots[label][key]

        def per_m(name: str) -> Decimal | None:
            value = entry.get(name)
            return None if value is None else Decimal(str(value)) * MILLION

        def card(suffix: str) -> Rates:
            return _rates(per_m("input_cost_per_token" + suffix),
                          per_m("output_cost_per_token" + suffix),
                          per_m("cache_read_input_token_cost" + suffix),
                          per_m("cache_creation_input_token_cost" + suffix))

        rates = card("")
        prefix = "input_cost_per_token_above_"
        for name in entry:
            if name.startswith(prefix) and name.endswith("k_tokens"):
                thousands = name.removeprefix(prefix).removesuffix("k_tokens")
                rates.tiers.append((int(thousands) * 1000, card(f"_above_{thousands}k_tokens")))
        rates.tiers.sort(key=lambda t: t[0])
        return rates
    entry = snapshots[label][model]
    pricing = entry["pricing"]
    return _rates(Decimal(pricing["prompt"]) * MILLION, Decimal(pricing["completion"]) * MILLION,
                  None if "input_cache_read" not in pricing
                  else Decimal(pricing["input_cache_read"]) * MILLION)


def _same(card: ModelPrice | PriceTier, rates: Rates) -> None:
    assert (card.input, card.output, card.cache_read, card.cache_write) == (
        rates.input, rates.output, rates.cache_read, rates.cache_write)
    assert card.reasoning == card.output  # no source lists a separate reasoning rate


def hand_cost(rates: Rates, usage: Usage) -> Decimal:
    uncached = usage.input_tokens - usage.cached_input_tokens - usage.cache_write_tokens
    return (uncached * rates.input + usage.cached_input_tokens * rates.cache_read
            + usage.cache_write_tokens * rates.cache_write
            + usage.output_tokens * rates.output) / MILLION


# --------------------------------------------------------------------------- the whole catalog


def test_bundled_catalog_is_complete_and_clean() -> None:
    catalog = Catalog.load(bundled_catalog_dir())
    assert len(catalog) >= 45
    assert {spec.provider for spec in catalog} == PROVIDERS
    free = [s for s in catalog if s.provider == "openrouter" and s.free]
    assert len(free) >= 10
    for spec in catalog:
        assert catalog.price(spec.model_id) is not None, f"{spec.model_id} has no price today"
        assert spec.speed_class is not None and spec.quality_class is not None
        assert spec.provenance is not None and spec.provenance.specs and spec.provenance.pricing
        assert spec.metadata.last_verified == ON
    assert catalog.check() == []


def test_file_names_follow_the_model_ids() -> None:
    root = bundled_catalog_dir()
    for spec in CATALOG:
        model = spec.model_id.split(":", 1)[1]
        name = model.replace("/", "--").replace(":", "--") + ".yaml"
        assert (root / "models" / spec.provider / name).is_file(), spec.model_id
        assert spec.pricing_ref == f"{spec.provider}/{model}"
    for provider in PROVIDERS:
        assert (root / "pricing" / f"{provider}.yaml").is_file()


def test_free_models_are_free_openrouter_variants() -> None:
    for spec in CATALOG:
        price = CATALOG.price(spec.model_id, ON)
        assert price is not None
        assert spec.free == (spec.provider == "openrouter"), spec.model_id
        if spec.free:
            assert spec.model_id.endswith(":free") and price.is_free


def test_context_capabilities_match_the_window() -> None:
    for spec in CATALOG:
        caps = set(spec.capabilities)
        context = spec.metadata.context_window_input
        assert (Capability.LARGE_CONTEXT in caps) == (context > 100_000), spec.model_id
        assert (Capability.EXTRA_LARGE_CONTEXT in caps) == (context >= 1_000_000), spec.model_id


# --------------------------------------------------------------------------- per model


@pytest.mark.needs_shared
@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_price_matches_its_source(model_id: str, snapshots: dict[str, Any]) -> None:
    spec = CATALOG.get(model_id)
    rates = expected_rates(spec, snapshots)
    price = CATALOG.price(model_id, ON)
    assert price is not None
    _same(price, rates)
    assert [t.above_input_tokens for t in price.tiers] == [above for above, _ in rates.tiers]
    for tier, (_, tier_rates) in zip(price.tiers, rates.tiers, strict=True):
        _same(tier, tier_rates)

    usage = Usage(input_tokens=150_000, output_tokens=20_000, cached_input_tokens=40_000,
                  cache_write_tokens=10_000, reasoning_tokens=5_000)
    cost = price_usage(price, usage, model_id)
    assert cost.total == hand_cost(rates, usage)
    assert cost.tier_above_input_tokens is None
    for above, tier_rates in rates.tiers:
        big = Usage(input_tokens=above + 1_000, output_tokens=2_000, cached_input_tokens=1_000)
        cost = price_usage(price, big, model_id)
        assert cost.tier_above_input_tokens == above
        assert cost.total == hand_cost(tier_rates, big)


# --------------------------------------------------------------------------- reference cases


def test_reference_case_claude_sonnet_4_5_costs_18_dollars() -> None:
    usage = modelrouter.Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    cost = modelrouter.calculate_cost("claude-sonnet-4-5", usage)
    assert cost.model == "anthropic:claude-sonnet-4-5"
    assert cost.total == Decimal("18")
    assert cost.tier_above_input_tokens is None


def test_gemini_2_5_pro_long_prompt_uses_the_tier() -> None:
    short = modelrouter.calculate_cost("google:gemini-2.5-pro", Usage(200_000, 10_000), ON)
    assert short.tier_above_input_tokens is None
    assert short.total == Decimal("0.25") + Decimal("0.10")  # 200K x 1.25 + 10K x 10
    long = modelrouter.calculate_cost("google:gemini-2.5-pro", Usage(300_000, 10_000), ON)
    assert long.tier_above_input_tokens == 200_000
    assert long.total == Decimal("0.75") + Decimal("0.15")  # 300K x 2.50 + 10K x 15


def test_claude_sonnet_4_5_1m_long_prompt_uses_the_tier() -> None:
    spec = CATALOG.get("anthropic:claude-sonnet-4-5-1m")
    assert spec.metadata.api_identifier == "claude-sonnet-4-5"
    assert spec.metadata.context_window_input == 1_000_000
    assert any("context-1m-2025-08-07" in p for p in spec.optimization.pitfalls)
    usage = Usage(input_tokens=500_000, output_tokens=100_000, cached_input_tokens=100_000,
                  cache_write_tokens=100_000)
    cost = modelrouter.calculate_cost("anthropic:claude-sonnet-4-5-1m", usage, ON)
    assert cost.tier_above_input_tokens == 200_000
    # 300K x 6 + 100K x 0.60 + 100K x 7.50 + 100K x 22.50
    assert cost.total == Decimal("1.80") + Decimal("0.06") + Decimal("0.75") + Decimal("2.25")
    plain = modelrouter.calculate_cost("claude-sonnet-4-5", usage, ON)
    assert plain.tier_above_input_tokens is None  # the plain model has no tier


def test_names_resolve() -> None:
    assert CATALOG.get("claude-sonnet-4-5").model_id == "anthropic:claude-sonnet-4-5"
    assert CATALOG.get("sonnet-4-5").model_id == "anthropic:claude-sonnet-4-5"
    assert CATALOG.get("claude-sonnet-4-5-20250929").model_id == "anthropic:claude-sonnet-4-5"
    assert CATALOG.get("command-a").model_id == "cohere:command-a-03-2025"
    assert CATALOG.get("command-r").model_id == "cohere:command-r-08-2024"
    assert CATALOG.get("command-r-plus").model_id == "cohere:command-r-plus-08-2024"
    free_llama = "openrouter:meta-llama/llama-3.3-70b-instruct:free"
    assert CATALOG.get(free_llama).free


@pytest.mark.parametrize(("model", "on", "expected"), [
    ("deepseek:deepseek-chat", date(2025, 7, 1), ("0.27", "1.10")),
    ("deepseek:deepseek-chat", date(2025, 9, 1), ("0.57", "1.68")),
    ("deepseek:deepseek-chat", date(2026, 1, 1), ("0.28", "0.42")),
    ("deepseek:deepseek-chat", ON, ("0.14", "0.28")),
    ("mistral:mistral-large-latest", date(2025, 12, 7), ("2", "6")),
    ("mistral:mistral-large-latest", date(2025, 12, 8), ("0.5", "1.5")),
])
def test_past_prices_come_from_the_history(
    model: str, on: date, expected: tuple[str, str]
) -> None:
    price = CATALOG.price(model, on)
    assert price is not None
    assert (price.input, price.output) == (Decimal(expected[0]), Decimal(expected[1]))


def test_no_price_before_the_first_version() -> None:
    assert CATALOG.price("mistral:mistral-large-latest", date(2020, 1, 1)) is None
    history = modelrouter.get_pricing_history("deepseek:deepseek-chat")
    assert len(history) >= 4


def test_history_starts_at_release_not_at_first_catalogue_entry() -> None:
    # models.dev first lists claude-sonnet-4-5 on 2025-10-24; it was released on 2025-09-29.
    price = CATALOG.price("anthropic:claude-sonnet-4-5", date(2025, 10, 1))
    assert price is not None and price.input == Decimal("3")
    assert CATALOG.price("anthropic:claude-sonnet-4-5", date(2025, 9, 28)) is None


def test_data_corrections_are_not_price_changes() -> None:
    # models.dev entered Opus 4.5 with cache prices 1.5/18.75 and fixed them two days later.
    history = modelrouter.get_pricing_history("anthropic:claude-opus-4-5")
    assert len(history) == 1
    price = history[0].price
    assert price is not None
    assert (price.cache_read, price.cache_write) == (Decimal("0.5"), Decimal("6.25"))
    # gpt-5's cache-read price was filled in a day after the model was added: no change either.
    gpt5 = CATALOG.price("openai:gpt-5", date(2025, 8, 7))
    assert gpt5 is not None and gpt5.cache_read == Decimal("0.13")


# --------------------------------------------------------------------------- reproducibility


@pytest.mark.needs_shared
def test_rebuilding_gives_identical_files(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "catalog"
    (out / "models" / "acme").mkdir(parents=True)
    (out / "models" / "acme" / "stale.yaml").write_text("stale: true\n")
    (out / "pricing").mkdir()
    (out / "pricing" / "acme.yaml").write_text("stale: true\n")
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "tools" / "build_catalog.py"),
         "--shared", str(shared_data), "--out", str(out)],
        check=True, capture_output=True, text=True,
    )
    bundled = bundled_catalog_dir()

    def tree(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes()
                for p in sorted([*root.glob("models/*/*.yaml"), *root.glob("pricing/*.yaml")])}

    rebuilt = tree(out)
    assert "models/acme/stale.yaml" not in rebuilt and "pricing/acme.yaml" not in rebuilt
    assert rebuilt.keys() == tree(bundled).keys()
    assert rebuilt == tree(bundled)
