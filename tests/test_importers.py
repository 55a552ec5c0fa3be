"""Importers: real LiteLLM, models.dev and OpenRouter snapshots become valid catalog entries."""

from __future__ import annotations

import http.server
import json
import os
import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from modelrouter.catalog.importers import (
    Baseline,
    ImportResult,
    import_source,
    load_baseline,
    parse_source,
    plan_import,
    write_catalog,
)
from modelrouter.catalog.importers.common import (
    atomic_write_text,
    check_target,
    effective_fields,
    per_million,
    read_json,
)
from modelrouter.catalog.loader import Catalog
from modelrouter.catalog.pricing import Usage, price_usage
from modelrouter.catalog.schema import ModelSpec
from modelrouter.errors import CatalogError
from tests.helpers import model_doc, write_model, write_pricing

TODAY = date(2026, 11, 25)
pytestmark = pytest.mark.needs_shared


def _litellm(shared: Path, old: bool = False) -> Path:
    name = (
        "model_prices_and_context_window.litellm-1.100.0.json"
        if old
        else "model_prices_and_context_window.json"
    )
    return shared / "litellm" / name


def _models_dev(shared: Path) -> Path:
    return shared / "models_dev" / "models_dev_snapshot.json"


def _openrouter(shared: Path) -> Path:
    return shared / "openrouter" / "models_api_snapshot.json"


@pytest.fixture(scope="module")
def litellm_new(shared_data: Path) -> ImportResult:
    return import_source("litellm", str(_litellm(shared_data)), today=TODAY)


@pytest.fixture(scope="module")
def litellm_old(shared_data: Path) -> ImportResult:
    return import_source("litellm", str(_litellm(shared_data, old=True)), today=TODAY)


@pytest.fixture(scope="module")
def models_dev(shared_data: Path) -> ImportResult:
    return import_source("models-dev", str(_models_dev(shared_data)), today=TODAY)


@pytest.fixture(scope="module")
def openrouter(shared_data: Path) -> ImportResult:
    return import_source("openrouter", str(_openrouter(shared_data)), today=TODAY)


def _by_id(result: ImportResult) -> dict[str, Any]:
    return {model.model_id: model for model in result.models}


def _rates(result: ImportResult, model_id: str) -> dict[str, Decimal]:
    return effective_fields(_by_id(result)[model_id].price)


# --------------------------------------------------------------------------- conversions


@pytest.mark.parametrize(
    ("per_token", "expected"),
    [
        (3e-06, "3"),
        (1.5e-05, "15"),
        (2e-07, "0.2"),  # 2e-07 * 1e6 is 0.19999999999999998 in float arithmetic
        (1e-07, "0.1"),
        (1.25e-07, "0.125"),
        (Decimal("3.75E-6"), "3.75"),
        ("0.000003", "3"),  # OpenRouter's strings
        ("0", "0"),
        (0, "0"),
        (True, None),
        (None, None),
        ("n/a", None),
    ],
)
def test_per_million_is_exact(per_token: object, expected: str | None) -> None:
    result = per_million(per_token)
    assert (None if result is None else str(result)) == expected


# --------------------------------------------------------------------------- LiteLLM


def test_litellm_imports_chat_models_of_supported_providers(litellm_new: ImportResult) -> None:
    providers = {m.provider for m in litellm_new.models}
    assert providers >= {"openai", "anthropic", "google", "groq", "cohere", "mistral", "deepseek"}
    assert len(litellm_new.models) >= 200
    counts = {p: sum(m.provider == p for m in litellm_new.models) for p in providers}
    assert counts["openai"] >= 80 and counts["anthropic"] >= 15 and counts["google"] >= 25
    assert litellm_new.skipped["not a model entry"] == 2  # sample_spec, fallback_generalizations
    assert litellm_new.skipped["not a chat model"] >= 1000
    assert litellm_new.skipped["unsupported provider"] >= 3000
    ids = set(_by_id(litellm_new))
    assert "openai:text-embedding-3-large" not in ids  # mode: embedding
    assert not any(i.startswith("openai:ft:") for i in ids)  # fine-tuning price templates
    assert "google:gemini-2.5-pro-preview-tts" not in ids  # audio out only


def test_litellm_known_prices(litellm_new: ImportResult) -> None:
    sonnet = _by_id(litellm_new)["anthropic:claude-sonnet-4-5"]
    assert (sonnet.price.input, sonnet.price.output) == (Decimal(3), Decimal(15))
    assert (sonnet.price.cache_read, sonnet.price.cache_write) == (
        Decimal("0.3"),
        Decimal("3.75"),
    )
    assert sonnet.spec["metadata"]["context_window_input"] == 200_000
    assert sonnet.spec["metadata"]["context_window_output"] == 64_000
    assert sonnet.spec["provenance"]["pricing"] == "litellm:model_prices_and_context_window.json"
    # The 1M-token reference: 1M input + 1M output on claude-sonnet-4-5 is $18.00.
    price = Catalog([ModelSpec.model_validate(sonnet.spec)], _book({"anthropic": [sonnet]}))
    cost = price_usage(
        price.price("anthropic:claude-sonnet-4-5", TODAY),  # type: ignore[arg-type]
        Usage(input_tokens=1_000_000, output_tokens=1_000_000),
        "anthropic:claude-sonnet-4-5",
    )
    assert cost.total == Decimal(18)


def test_litellm_standard_tier_only(litellm_new: ImportResult) -> None:
    gemini = _by_id(litellm_new)["google:gemini-2.5-pro"]
    assert (gemini.price.input, gemini.price.output) == (Decimal("1.25"), Decimal(10))
    # *_above_200k_tokens_priority and *_batches are other services, not tiers.
    assert len(gemini.price.tiers) == 1
    tier = gemini.price.tiers[0]
    assert tier.above_input_tokens == 200_000
    assert (tier.input, tier.output, tier.cache_read) == (
        Decimal("2.5"),
        Decimal(15),
        Decimal("0.25"),
    )
    gpt = _by_id(litellm_new)["openai:gpt-5.4"]
    assert [t.above_input_tokens for t in gpt.price.tiers] == [272_000]


def test_litellm_prefers_the_provider_prefixed_twin(litellm_new: ImportResult) -> None:
    # "deepseek/deepseek-chat" (what LiteLLM routes) and bare "deepseek-chat" are one model.
    assert sum(m.model_id == "deepseek:deepseek-chat" for m in litellm_new.models) == 1
    chat = _by_id(litellm_new)["deepseek:deepseek-chat"]
    assert chat.price.cache_write == Decimal(0)  # only the prefixed entry states it
    assert litellm_new.skipped["duplicate id"] >= 5


def test_litellm_provider_filter(shared_data: Path) -> None:
    result = import_source(
        "litellm", str(_litellm(shared_data)), providers=["google"], today=TODAY
    )
    assert result.models and {m.provider for m in result.models} == {"google"}
    assert result.skipped["other provider (--provider)"] >= 150


# --------------------------------------------------------------------------- models.dev


def test_models_dev_imports_and_prices(models_dev: ImportResult) -> None:
    assert len(models_dev.models) >= 400
    assert models_dev.source == "models.dev@f3fc692"
    assert models_dev.skipped["unsupported provider"] == 8  # the xai models
    gemini = _by_id(models_dev)["google:gemini-2.5-pro"]
    assert (gemini.price.input, gemini.price.output) == (Decimal("1.25"), Decimal(10))
    [tier] = gemini.price.tiers
    assert (tier.above_input_tokens, tier.input, tier.output, tier.cache_read) == (
        200_000,
        Decimal("2.5"),
        Decimal(15),
        Decimal("0.25"),
    )
    sonnet = _rates(models_dev, "anthropic:claude-sonnet-4-5")
    assert (sonnet["input"], sonnet["output"], sonnet["cache_read"], sonnet["cache_write"]) == (
        Decimal(3),
        Decimal(15),
        Decimal("0.3"),
        Decimal("3.75"),
    )
    ids = set(_by_id(models_dev))
    assert "openai:text-embedding-3-small" not in ids
    assert "openai:gpt-image-1" not in ids


def test_models_dev_accepts_the_public_api_json_shape(shared_data: Path) -> None:
    snapshot = json.loads(_models_dev(shared_data).read_text(), parse_float=Decimal)
    api_json = snapshot["providers"]  # api.json is this map, without the wrapper
    from_snapshot = parse_source("models-dev", snapshot, name="snap.json", today=TODAY)
    from_api = parse_source("models-dev", api_json, name="api.json", today=TODAY)
    assert [m.model_id for m in from_api.models] == [m.model_id for m in from_snapshot.models]
    assert from_api.source == "models.dev:api.json"


def test_models_dev_free_models(models_dev: ImportResult) -> None:
    free = _by_id(models_dev)["openrouter:meta-llama/llama-3.3-70b-instruct:free"]
    assert free.spec["free"] is True
    assert (free.price.input, free.price.output) == (Decimal(0), Decimal(0))


# --------------------------------------------------------------------------- OpenRouter


def test_openrouter_free_and_dynamic(openrouter: ImportResult) -> None:
    assert len(openrouter.models) >= 300
    free = [m for m in openrouter.models if m.model_id.endswith(":free")]
    assert len(free) >= 20
    for model in free:
        assert model.spec["free"] is True
        assert (model.price.input, model.price.output) == (Decimal(0), Decimal(0))
    ids = set(_by_id(openrouter))
    # "-1" marks routers whose price depends on the model they pick.
    assert "openrouter:openrouter/auto" not in ids
    assert openrouter.skipped["dynamic price (router)"] == 3
    assert not any(m.spec["free"] for m in openrouter.models if m.price.input > 0)


def test_openrouter_prices_and_ids(openrouter: ImportResult) -> None:
    fast = _by_id(openrouter)["openrouter:anthropic/claude-opus-4.7-fast"]
    assert (fast.price.input, fast.price.output) == (Decimal(30), Decimal(150))
    assert (fast.price.cache_read, fast.price.cache_write) == (Decimal(3), Decimal("37.5"))
    llama = _by_id(openrouter)["openrouter:meta-llama/llama-3.3-70b-instruct:free"]
    assert llama.pricing_ref == "openrouter/meta-llama/llama-3.3-70b-instruct:free"
    assert llama.file_name == "meta-llama--llama-3.3-70b-instruct--free.yaml"
    assert llama.spec["metadata"]["api_identifier"] == "meta-llama/llama-3.3-70b-instruct:free"


def test_openrouter_synthetic_edge_cases() -> None:
    data = {
        "data": [
            {"id": "a/router", "pricing": {"prompt": "-1", "completion": "-1"},
             "context_length": 1000},
            {"id": "a/no-limit", "pricing": {"prompt": "0.000001", "completion": "0.000002"},
             "context_length": 32000, "top_provider": {"max_completion_tokens": None}},
            {"id": "a/image-only", "pricing": {"prompt": "0", "completion": "0"},
             "context_length": 1000, "architecture": {"output_modalities": ["image"]}},
            "not a model",
        ]
    }
    result = parse_source("openrouter", data, name="x.json", today=TODAY)
    [model] = result.models
    assert model.spec["metadata"]["context_window_output"] == 32000
    assert "no output limit" in model.spec["provenance"]["notes"][0]
    assert dict(result.skipped) == {
        "dynamic price (router)": 1,
        "no text output": 1,
        "not a model entry": 1,
    }


# --------------------------------------------------------------------------- every entry


@pytest.mark.parametrize("source", ["litellm_new", "litellm_old", "models_dev", "openrouter"])
def test_every_entry_is_schema_valid(source: str, request: pytest.FixtureRequest) -> None:
    result: ImportResult = request.getfixturevalue(source)
    assert result.skipped["fails the model schema"] == 0
    for model in result.models:
        spec = ModelSpec.model_validate(model.spec)
        assert spec.pricing_ref == f"{spec.provider}/{spec.model_id.split(':', 1)[1]}"
        assert spec.metadata.last_verified == TODAY
        assert spec.provenance is not None and spec.provenance.pricing == result.source
        assert spec.free == (model.price.input == 0 and model.price.output == 0)


@pytest.mark.parametrize("source", ["litellm_new", "models_dev", "openrouter"])
def test_imported_directory_loads(
    source: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    result: ImportResult = request.getfixturevalue(source)
    out = tmp_path / "catalog"
    plan = plan_import(result, Baseline(), TODAY)
    summary = write_catalog(plan, Baseline(), out, label=result.source, today=TODAY)
    assert summary.model_files == len(result.models)
    catalog = Catalog.load(out)
    assert len(catalog) == len(result.models)
    assert catalog.check() == []  # every model priced, every price used
    some = result.models[0]
    assert catalog.price(some.model_id, TODAY) is not None
    assert not list(out.rglob("*.tmp"))


# --------------------------------------------------------------------------- diff and merge


def test_diff_old_snapshot_against_catalog_from_new(
    litellm_new: ImportResult, litellm_old: ImportResult, tmp_path: Path
) -> None:
    out = tmp_path / "catalog"
    write_catalog(
        plan_import(litellm_new, Baseline(), TODAY), Baseline(), out,
        label=litellm_new.source, today=TODAY,
    )
    plan = plan_import(litellm_old, load_baseline(out), TODAY)
    changes = {(c.model, c.field): c for c in plan.changed}
    # gemini-flash-latest: $0.30/$2.50 in litellm 1.100.0, $0.75/$3.75 in 1.109.1.
    flash_in = changes[("google:gemini-flash-latest", "input")]
    assert (flash_in.old, flash_in.new) == (Decimal("0.75"), Decimal("0.3"))
    assert flash_in.change_pct == Decimal("-60.00")
    flash_out = changes[("google:gemini-flash-latest", "output")]
    assert (flash_out.old, flash_out.new, flash_out.change_pct) == (
        Decimal("3.75"),
        Decimal("2.5"),
        Decimal("-33.33"),
    )
    assert flash_out.to_dict()["change_pct"] == -33.33
    assert "google:gemini-flash-latest" in plan.changed_models
    assert plan.unchanged >= 150
    # Retired between the two releases, so new relative to the catalog built from 1.109.1.
    assert "anthropic:claude-opus-4-1" in [m.model_id for m in plan.added]


def test_merge_adds_a_dated_price_version(
    litellm_new: ImportResult, litellm_old: ImportResult, tmp_path: Path
) -> None:
    out = tmp_path / "catalog"
    earlier = date(2026, 9, 6)
    write_catalog(
        plan_import(litellm_old, Baseline(), earlier), Baseline(), out,
        label=litellm_old.source, today=earlier,
    )
    model_file = out / "models" / "google" / "gemini-flash-latest.yaml"
    before = model_file.read_bytes()
    baseline = load_baseline(out)
    plan = plan_import(litellm_new, baseline, TODAY)
    write_catalog(plan, baseline, out, label=litellm_new.source, today=TODAY)

    catalog = Catalog.load(out)
    assert catalog.price("google:gemini-flash-latest", earlier).input == Decimal("0.3")  # type: ignore[union-attr]
    assert catalog.price("google:gemini-flash-latest", TODAY).input == Decimal("0.75")  # type: ignore[union-attr]
    assert model_file.read_bytes() == before  # existing model files are never rewritten
    # The new version lists only new and changed prices.
    dates = catalog.prices.history_dates("google/gemini-flash-latest")
    assert dates == [earlier, TODAY]
    assert catalog.prices.history_dates("google/gemini-2.5-pro") == [earlier]
    assert len(catalog) == len(litellm_old.models) + len(plan.added)
    # Importing the same data again changes nothing.
    again = plan_import(litellm_new, load_baseline(out), TODAY)
    assert (again.added, again.changed, again.prices) == ([], [], {})


def _litellm_entry(input_per_token: float, output_per_token: float) -> dict[str, Any]:
    return {
        "litellm_provider": "anthropic", "mode": "chat", "max_input_tokens": 200000,
        "max_output_tokens": 64000, "input_cost_per_token": input_per_token,
        "output_cost_per_token": output_per_token,
    }


def test_dated_ids_the_catalog_keeps_as_aliases_are_not_new(tmp_path: Path) -> None:
    doc = model_doc("anthropic:claude-sonnet-4-5",
                    metadata={"aliases": ["claude-sonnet-4-5-20250929"]})
    write_model(tmp_path, doc)
    write_pricing(tmp_path, "anthropic", [
        {"effective_date": "2026-01-01", "models": {
            "claude-sonnet-4-5": {"input": "3", "output": "15"}}},
    ])
    baseline = load_baseline(tmp_path)
    both = parse_source("litellm", {
        "claude-sonnet-4-5": _litellm_entry(3e-06, 1.5e-05),
        "claude-sonnet-4-5-20250929": _litellm_entry(3e-06, 1.5e-05),
    }, name="x.json", today=TODAY)
    plan = plan_import(both, baseline, TODAY)
    assert (plan.added, plan.unchanged, plan.skipped["alias of a catalog model"]) == ([], 1, 1)
    # Only the dated id in the source: compared as the catalog model it names.
    dated = parse_source("litellm", {
        "claude-sonnet-4-5-20250929": _litellm_entry(4e-06, 1.5e-05),
    }, name="x.json", today=TODAY)
    plan = plan_import(dated, baseline, TODAY)
    assert plan.added == []
    [change] = plan.changed
    assert (change.model, change.field, change.old, change.new, change.change_pct) == (
        "anthropic:claude-sonnet-4-5", "input", Decimal(3), Decimal(4), Decimal("33.33"),
    )
    assert list(plan.prices) == ["anthropic/claude-sonnet-4-5"]


def test_refuses_a_non_catalog_directory(tmp_path: Path, openrouter: ImportResult) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CatalogError, match="not a catalog"):
        write_catalog(
            plan_import(openrouter, Baseline(), TODAY), Baseline(), tmp_path,
            label="x", today=TODAY,
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    with pytest.raises(CatalogError, match="not a directory"):
        check_target(tmp_path / "notes.txt")
    assert check_target(tmp_path / "new") is False


def test_atomic_write_keeps_the_old_file_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "pricing" / "acme.yaml"
    atomic_write_text(target, "old: true\n")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        atomic_write_text(target, "new: true\n" * 1000)
    assert target.read_text() == "old: true\n"
    assert [p.name for p in target.parent.iterdir()] == ["acme.yaml"]


# --------------------------------------------------------------------------- reading


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def snapshot_server(shared_data: Path) -> Iterator[str]:
    handler = partial(_QuietHandler, directory=str(shared_data / "openrouter"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_import_from_a_url(snapshot_server: str, openrouter: ImportResult) -> None:
    result = import_source(
        "openrouter", f"{snapshot_server}/models_api_snapshot.json", today=TODAY, timeout_s=5
    )
    assert [m.model_id for m in result.models] == [m.model_id for m in openrouter.models]
    assert result.source == "openrouter:models_api_snapshot.json"
    with pytest.raises(CatalogError, match="HTTP 404"):
        import_source("openrouter", f"{snapshot_server}/missing.json", timeout_s=5)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        ("<html>not json</html>", "not valid JSON"),
        ("{\"a\": ", "not valid JSON"),
    ],
)
def test_read_errors_are_one_clear_line(tmp_path: Path, content: str | None, expected: str) -> None:
    path = tmp_path / "source.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CatalogError, match=expected) as info:
        read_json(str(path))
    assert str(path) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("source", "data"),
    [
        ("litellm", {"data": []}),
        ("models-dev", {"data": []}),
        ("openrouter", {"gpt-5": {"litellm_provider": "openai"}}),
        ("litellm", []),
    ],
)
def test_wrong_shape_is_an_error(source: str, data: Any) -> None:
    with pytest.raises(CatalogError, match="does not look like"):
        parse_source(source, data, name="x.json", today=TODAY)


def test_unknown_source_and_provider() -> None:
    with pytest.raises(CatalogError, match="did you mean 'openrouter'"):
        parse_source("open-router", {}, name="x", today=TODAY)
    with pytest.raises(CatalogError, match="did you mean 'google'"):
        parse_source("litellm", {}, name="x", today=TODAY, providers=["gemini"])


def _book(entries: dict[str, list[Any]]) -> Any:
    from modelrouter.catalog.pricing import PriceBook, PricingFile, PricingVersionEntry

    files = {
        provider: PricingFile(
            provider=provider,
            pricing_versions=(
                PricingVersionEntry(
                    effective_date=TODAY,
                    models={m.pricing_ref.split("/", 1)[1]: m.price for m in models},
                ),
            ),
        )
        for provider, models in entries.items()
    }
    return PriceBook.from_files(files)
