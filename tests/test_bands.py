"""Bands: config validation, assignment, models.csv / state / audit, atomic commit."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import statistics
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelrouter.catalog.band_store import (
    BandFiles,
    apply_bands,
    bundled_bands_config_path,
    load_bands_config,
    preview_bands,
    set_override,
)
from modelrouter.catalog.bands import (
    BandAssignment,
    BandOverride,
    ModelBandInput,
    assign_bands,
    band_summary,
    context_band_for,
    cost_tier_for,
    describe_move,
    diff_assignments,
)
from modelrouter.catalog.loader import Catalog
from modelrouter.errors import CatalogError, UnknownModelError

CSV_HEADER = (
    "model_id,provider,context_window,blended_usd_per_mtok,context_band,cost_tier,override"
)

# (model_id, context window, (input, output) price or None, free)
MODELS: list[tuple[str, int, tuple[str, str] | None, bool]] = [
    ("openai:gpt-5", 400_000, ("1.25", "10"), False),  # blended 3.4375
    ("openai:gpt-5-mini", 400_000, ("0.25", "2"), False),  # blended 0.6875
    ("anthropic:claude-sonnet-4-5", 200_000, ("3", "15"), False),  # blended 6
    ("google:gemini-2.5-pro", 1_048_576, ("1.25", "10"), False),
    ("groq:llama-3.1-8b-instant", 131_072, ("0.05", "0.08"), False),  # blended 0.0575
    ("openrouter:meta-llama/llama-3.3-70b-instruct:free", 32_768, ("0", "0"), False),
    ("mistral:ministral-8b", 8_192, None, False),  # no price
    ("cohere:command-r7b", 128_000, None, True),  # free, no price entry
]


# --------------------------------------------------------------------------- helpers


def write_catalog(
    root: Path,
    models: list[tuple[str, int, tuple[str, str] | None, bool]] = MODELS,
    price_versions: dict[str, list[tuple[str, tuple[str, str]]]] | None = None,
) -> Path:
    """A catalog directory: one YAML per model, one pricing file per provider."""
    pricing: dict[str, dict[str, dict[str, Any]]] = {}
    for model_id, context, price, free in models:
        provider, name = model_id.split(":", 1)
        slug = name.replace("/", "_").replace(":", "_")
        spec = {
            "model_id": model_id,
            "provider": provider,
            "metadata": {
                "name": name,
                "api_identifier": name,
                "context_window_input": context,
                "context_window_output": 8_192,
                "last_verified": "2026-01-01",
            },
            "capabilities": ["text_input", "text_output"],
            "pricing_ref": f"{provider}/{name}",
            "free": free,
        }
        path = root / "models" / provider / f"{slug}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(spec), encoding="utf-8")
        versions = (price_versions or {}).get(model_id)
        if versions is None and price is not None:
            versions = [("2025-01-01", price)]
        for day, (inp, out) in versions or []:
            pricing.setdefault(provider, {}).setdefault(day, {})[name] = {
                "input": inp,
                "output": out,
            }
    for provider, by_day in pricing.items():
        data = {
            "provider": provider,
            "pricing_versions": [
                {"effective_date": day, "models": entries} for day, entries in by_day.items()
            ],
        }
        path = root / "pricing" / f"{provider}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return root


def bundled_config_raw() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(bundled_bands_config_path().read_text(encoding="utf-8"))
    return raw


def write_config(path: Path, raw: Any) -> Path:
    path.write_text(json.dumps(raw, indent=2) if not isinstance(raw, str) else raw)
    return path


def narrower_standard_config(path: Path) -> Path:
    """The bundled bands, but standard ends at 128,000 and extended starts there."""
    raw = bundled_config_raw()
    raw["context_window_bands"][1]["max_tokens"] = 128_000
    raw["context_window_bands"][2]["min_tokens"] = 128_000
    return write_config(path, raw)


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def read_audit(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def snapshot(files: BandFiles) -> dict[str, bytes | None]:
    paths = (files.csv, files.state, files.audit)
    return {p.name: p.read_bytes() if p.exists() else None for p in paths}


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return Catalog.load(write_catalog(tmp_path / "catalog"))


@pytest.fixture
def files(tmp_path: Path) -> BandFiles:
    return BandFiles.beside(tmp_path / "out" / "models.csv")


# --------------------------------------------------------------------------- config


def test_bundled_config_has_the_four_bands_and_tiers() -> None:
    config, config_hash = load_bands_config()
    assert config.context_band_names == ["compact", "standard", "extended", "large"]
    assert config.cost_tier_names == ["free", "economy", "value", "premium"]
    assert config.cost_tier_bands[1].min_usd_per_mtok == Decimal("0.01")
    assert len(config_hash) == 64


def _edit(edit: Any) -> dict[str, Any]:
    raw = bundled_config_raw()
    edit(raw)
    return raw


BAD_CONFIGS = [
    pytest.param(
        _edit(lambda r: r["context_window_bands"][2].update(min_tokens=300_000)),
        "context_window_bands: gap between 'standard' (ends 256,000) and 'extended' "
        "(starts 300,000)",
        id="gap",
    ),
    pytest.param(
        _edit(lambda r: r["context_window_bands"][2].update(min_tokens=200_000)),
        "context_window_bands: overlap between 'standard' (ends 256,000) and 'extended' "
        "(starts 200,000)",
        id="overlap",
    ),
    pytest.param(
        _edit(lambda r: r["cost_tier_bands"][2].update(min_usd_per_mtok="2")),
        "cost_tier_bands: gap between 'economy' (ends $1) and 'value' (starts $2)",
        id="cost-gap",
    ),
    pytest.param(
        _edit(
            lambda r: r.update(
                context_window_bands=[r["context_window_bands"][i] for i in (0, 2, 1, 3)]
            )
        ),
        "context_window_bands: bands are out of order: 'compact' (starts 0), 'extended' "
        "(starts 256,000), 'standard' (starts 32,000)",
        id="unordered",
    ),
    pytest.param(
        _edit(lambda r: r["context_window_bands"][0].update(min_tokens=1)),
        "context_window_bands[0].min_tokens: the first band 'compact' must start at 0",
        id="not-from-zero",
    ),
    pytest.param(
        _edit(lambda r: r["cost_tier_bands"][3].update(max_usd_per_mtok="100")),
        "cost_tier_bands[3].max_usd_per_mtok: the last band 'premium' must be open-ended",
        id="last-closed",
    ),
    pytest.param(
        _edit(lambda r: r["context_window_bands"][1].update(max_tokens=None)),
        "context_window_bands[1].max_tokens: only the last band may be open-ended (null), "
        "but 'standard' is followed by 'extended'",
        id="middle-open",
    ),
    pytest.param(
        _edit(lambda r: r["context_window_bands"][1].update(max_tokens=32_000)),
        "context_window_bands[1].max_tokens: 'standard' ends at 32,000, which is not above",
        id="empty-band",
    ),
    pytest.param(
        _edit(lambda r: r["cost_tier_bands"][1].update(name="free")),
        "cost_tier_bands[1].name: 'free' is already the name of cost_tier_bands[0]",
        id="duplicate-name",
    ),
    pytest.param(
        _edit(lambda r: r["cost_tier_bands"][1].update(max_usd_per_mtok=1.0)),
        'cost_tier_bands[1].max_usd_per_mtok: write USD amounts as decimal strings, e.g. "0.01"',
        id="float-money",
    ),
    pytest.param(
        _edit(lambda r: r["context_window_bands"][2].update(min_tokens="256000")),
        "context_window_bands[2].min_tokens: Input should be a valid integer",
        id="string-tokens",
    ),
    pytest.param(
        _edit(lambda r: r["cost_tier_bands"][1].update(colour="blue")),
        "cost_tier_bands[1].colour: unknown field",
        id="unknown-field",
    ),
    pytest.param(
        _edit(lambda r: r["cost_tier_bands"][3].update(name="unknown")),
        "cost_tier_bands[3].name: 'unknown' is reserved for models without a price",
        id="reserved-name",
    ),
    pytest.param(
        _edit(lambda r: r.update(version=2)),
        "version: this modelrouter reads bands config version 1, not 2",
        id="version",
    ),
    pytest.param([], "expected a JSON object at the top level", id="not-an-object"),
    pytest.param('{"version": 1,', "invalid JSON at line 1, column 15", id="bad-json"),
    pytest.param('{"version": 1, "version": 1}', "key 'version' appears twice", id="dup-key"),
]


@pytest.mark.parametrize(("raw", "message"), BAD_CONFIGS)
def test_a_bad_config_is_rejected_naming_the_file_and_the_problem(
    tmp_path: Path, raw: Any, message: str
) -> None:
    path = write_config(tmp_path / "bands_config.json", raw)
    with pytest.raises(CatalogError) as caught:
        load_bands_config(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_a_missing_config_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"nope\.json: cannot read the bands config"):
        load_bands_config(tmp_path / "nope.json")


def test_an_edited_config_file_is_reread(tmp_path: Path) -> None:
    path = write_config(tmp_path / "bands.json", bundled_config_raw())
    _, first = load_bands_config(path)
    narrower_standard_config(path)
    os.utime(path, ns=(1, 1))  # a different mtime even on a coarse clock
    config, second = load_bands_config(path)
    assert second != first
    assert config.context_window_bands[1].max_tokens == 128_000


def test_reformatting_the_config_does_not_change_its_hash(tmp_path: Path) -> None:
    compact = tmp_path / "a.json"
    compact.write_text(json.dumps(bundled_config_raw(), separators=(",", ":")))
    assert load_bands_config(compact)[1] == load_bands_config()[1]


# --------------------------------------------------------------------------- assignment


def test_bands_are_half_open_intervals() -> None:
    config, _ = load_bands_config()
    assert context_band_for(31_999, config) == "compact"
    assert context_band_for(32_000, config) == "standard"
    assert context_band_for(256_000, config) == "extended"
    assert context_band_for(1_000_000, config) == "large"
    assert context_band_for(10**9, config) == "large"
    assert cost_tier_for(Decimal("0.0099"), False, config) == "free"
    assert cost_tier_for(Decimal("0.01"), False, config) == "economy"
    assert cost_tier_for(Decimal("5"), False, config) == "premium"
    assert cost_tier_for(Decimal("4.9999"), False, config) == "value"
    assert cost_tier_for(None, False, config) == "unknown"
    assert cost_tier_for(None, True, config) == "free"
    assert cost_tier_for(Decimal("3"), True, config) == "free"


def test_every_model_gets_its_band_and_tier(catalog: Catalog) -> None:
    result = preview_bands(catalog)
    got = {a.model_id: (a.context_band, a.cost_tier, a.blended) for a in result.assignments}
    assert got == {
        "anthropic:claude-sonnet-4-5": ("standard", "premium", Decimal("6")),
        "cohere:command-r7b": ("standard", "free", None),
        "google:gemini-2.5-pro": ("large", "value", Decimal("3.4375")),
        "groq:llama-3.1-8b-instant": ("standard", "economy", Decimal("0.0575")),
        "mistral:ministral-8b": ("compact", "unknown", None),
        "openai:gpt-5": ("extended", "value", Decimal("3.4375")),
        "openai:gpt-5-mini": ("extended", "economy", Decimal("0.6875")),
        "openrouter:meta-llama/llama-3.3-70b-instruct:free": ("standard", "free", Decimal("0")),
    }


def test_the_move_is_told_in_the_seed_words() -> None:
    config, _ = load_bands_config()
    gpt5 = ModelBandInput("openai:gpt-5", "openai", 400_000, Decimal("3.4375"), False)
    moves = diff_assignments({}, assign_bands([gpt5], config), config_changed=False)
    assert [describe_move(m) for m in moves] == [
        "Assigned openai:gpt-5 (400,000 tokens) to extended band",
        "Assigned openai:gpt-5 ($3.4375 per million tokens blended) to value tier",
    ]
    assert [m.reason for m in moves] == ["new model", "new model"]


def test_the_reason_of_each_move() -> None:
    config, _ = load_bands_config()

    def row(context: int = 200_000, blended: str = "3", override: BandOverride | None = None):
        return assign_bands(
            [ModelBandInput("x:m", "x", context, Decimal(blended), False)],
            config,
            {"x:m": override} if override else None,
        )[0]

    def reasons(old: BandAssignment, new: BandAssignment, config_changed: bool = False):
        return [
            (m.kind, m.old_band, m.new_band, m.reason)
            for m in diff_assignments({"x:m": old}, [new], config_changed=config_changed)
        ]

    assert reasons(row(), row(blended="7")) == [("cost_tier", "value", "premium", "price changed")]
    assert reasons(row(), row(override=BandOverride(context_band="large"))) == [
        ("context_band", "standard", "large", "manual override")
    ]
    assert reasons(row(override=BandOverride(cost_tier="free")), row()) == [
        ("cost_tier", "free", "value", "override cleared")
    ]
    assert reasons(row(), row(context=300_000)) == [
        ("context_band", "standard", "extended", "context window changed")
    ]
    assert reasons(row(), row()) == []
    assert diff_assignments({"x:m": row()}, [], config_changed=False)[0].reason == "model removed"


def test_the_summary_lists_each_band_with_its_models(catalog: Catalog) -> None:
    result = preview_bands(catalog)
    lines = band_summary(result.assignments, result.config)
    assert "Extended band: 2 models - [openai:gpt-5, openai:gpt-5-mini]" in lines
    assert "Large band: 1 model - [google:gemini-2.5-pro]" in lines
    assert "Unknown tier: 1 model - [mistral:ministral-8b]" in lines
    assert lines[0] == "Compact band: 1 model - [mistral:ministral-8b]"


# --------------------------------------------------------------------------- apply


def test_first_apply_writes_csv_state_and_audit_and_logs_each_move(
    catalog: Catalog, files: BandFiles, caplog: pytest.LogCaptureFixture
) -> None:
    when = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with caplog.at_level(logging.INFO, logger="modelrouter.bands"):
        result = apply_bands(catalog, csv_path=files.csv, now=when)
    assert result.written and not result.up_to_date

    lines = files.csv.read_text(encoding="utf-8").splitlines()
    assert lines[0] == CSV_HEADER
    assert "openai:gpt-5,openai,400000,3.4375,extended,value," in lines
    assert "mistral:ministral-8b,mistral,8192,,compact,unknown," in lines
    assert len(lines) == 1 + len(MODELS)

    messages = [r.getMessage() for r in caplog.records if r.name == "modelrouter.bands"]
    assert "Assigned openai:gpt-5 (400,000 tokens) to extended band" in messages
    assert "Assigned google:gemini-2.5-pro (1,048,576 tokens) to large band" in messages
    assert "Extended band: 2 models - [openai:gpt-5, openai:gpt-5-mini]" in messages

    audit = read_audit(files.audit)
    assert len(audit) == 2 * len(MODELS)
    assert audit[0] == {
        "time": "2026-03-01T12:00:00+00:00",
        "model": "anthropic:claude-sonnet-4-5",
        "kind": "context_band",
        "old_band": None,
        "new_band": "standard",
        "reason": "new model",
        "config_hash": result.config_hash,
    }
    state = json.loads(files.state.read_text())
    assert state["config_hash"] == result.config_hash
    assert state["config"] == bundled_config_raw()


def test_an_unchanged_config_costs_nothing(
    tmp_path: Path, files: BandFiles, caplog: pytest.LogCaptureFixture
) -> None:
    many = [(f"openai:m{i}", 4_000 * (i + 1), ("1", "2"), False) for i in range(60)]
    catalog = Catalog.load(write_catalog(tmp_path / "big", many))
    apply_bands(catalog, csv_path=files.csv)
    os.utime(files.csv, ns=(1_000_000_000, 1_000_000_000))
    before = snapshot(files)

    with caplog.at_level(logging.DEBUG, logger="modelrouter.bands"):
        result = apply_bands(catalog, csv_path=files.csv)
    assert result.up_to_date and not result.written and result.moves == []
    assert len(result.assignments) == 60
    assert caplog.records == []
    assert snapshot(files) == before
    assert files.csv.stat().st_mtime_ns == 1_000_000_000

    timings = []
    for _ in range(30):
        start = time.perf_counter()
        apply_bands(catalog, csv_path=files.csv)
        timings.append(time.perf_counter() - start)
    assert statistics.median(timings) < 0.05  # measured ≈ 1 ms for 60 models


def test_a_changed_config_reassigns_logs_and_audits(
    catalog: Catalog, files: BandFiles, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    apply_bands(catalog, csv_path=files.csv)
    first_audit = files.audit.read_bytes()
    config = narrower_standard_config(tmp_path / "bands.json")

    with caplog.at_level(logging.INFO, logger="modelrouter.bands"):
        result = apply_bands(catalog, config_path=config, csv_path=files.csv)

    messages = [r.getMessage() for r in caplog.records]
    assert (
        "Assigned anthropic:claude-sonnet-4-5 (200,000 tokens) to extended band "
        "(was standard; bands config changed)"
    ) in messages
    assert (
        "Extended band: 5 models - [anthropic:claude-sonnet-4-5, cohere:command-r7b, "
        "groq:llama-3.1-8b-instant, openai:gpt-5, openai:gpt-5-mini]"
    ) in messages
    rows = {r["model_id"]: r for r in read_csv(files.csv)}
    assert rows["anthropic:claude-sonnet-4-5"]["context_band"] == "extended"
    assert rows["cohere:command-r7b"]["context_band"] == "extended"  # 128,000 is not < 128,000
    assert rows["openrouter:meta-llama/llama-3.3-70b-instruct:free"]["context_band"] == "standard"
    assert files.audit.read_bytes().startswith(first_audit)
    new_lines = read_audit(files.audit)[len(first_audit.splitlines()) :]
    assert [(a["model"], a["old_band"], a["new_band"], a["reason"]) for a in new_lines] == [
        ("anthropic:claude-sonnet-4-5", "standard", "extended", "bands config changed"),
        ("cohere:command-r7b", "standard", "extended", "bands config changed"),
        ("groq:llama-3.1-8b-instant", "standard", "extended", "bands config changed"),
    ]
    assert len(result.moves) == 3


def test_a_price_change_moves_the_cost_tier(tmp_path: Path, files: BandFiles) -> None:
    models = [("openai:gpt-5", 400_000, None, False)]
    versions = {"openai:gpt-5": [("2025-01-01", ("0.5", "1")), ("2026-01-01", ("1.25", "10"))]}
    catalog = Catalog.load(write_catalog(tmp_path / "c", models, versions))
    apply_bands(catalog, csv_path=files.csv, on=date(2025, 6, 1))
    result = apply_bands(catalog, csv_path=files.csv, on=date(2026, 6, 1))
    assert [(m.kind, m.old_band, m.new_band, m.reason) for m in result.moves] == [
        ("cost_tier", "economy", "value", "price changed")
    ]
    assert read_csv(files.csv)[0]["blended_usd_per_mtok"] == "3.4375"


def test_a_deleted_csv_is_written_again(catalog: Catalog, files: BandFiles) -> None:
    apply_bands(catalog, csv_path=files.csv)
    expected = files.csv.read_bytes()
    audit = files.audit.read_bytes()
    files.csv.unlink()
    result = apply_bands(catalog, csv_path=files.csv)
    assert result.written and result.moves == []
    assert files.csv.read_bytes() == expected
    assert files.audit.read_bytes() == audit


def test_dry_run_writes_nothing(catalog: Catalog, files: BandFiles) -> None:
    result = apply_bands(catalog, csv_path=files.csv, dry_run=True)
    assert len(result.moves) == 2 * len(MODELS)
    assert not result.written
    assert not files.csv.parent.exists()


def test_a_corrupt_state_file_is_a_clear_error(catalog: Catalog, files: BandFiles) -> None:
    apply_bands(catalog, csv_path=files.csv)
    files.state.write_text("{not json")
    with pytest.raises(CatalogError, match=r"bands_state\.json: unreadable bands state"):
        apply_bands(catalog, csv_path=files.csv)


def test_the_bundled_catalog_gets_a_band_for_every_model(tmp_path: Path) -> None:
    result = apply_bands(csv_path=tmp_path / "models.csv")
    config = result.config
    assert len(read_csv(result.files.csv)) == len(result.assignments) >= 1
    for assignment in result.assignments:
        assert assignment.context_band in config.context_band_names
        assert assignment.cost_tier in [*config.cost_tier_names, "unknown"]


def test_the_default_files_are_in_the_user_data_dir(catalog: Catalog) -> None:
    result = apply_bands(catalog)
    home = Path(os.environ["MODELROUTER_HOME"]) / "bands"
    assert result.files == BandFiles(
        home / "models.csv", home / "bands_state.json", home / "bands_audit.jsonl"
    )
    assert result.files.csv.exists() and result.files.state.exists()


# --------------------------------------------------------------------------- atomic commit


def _fail_on_call(monkeypatch: pytest.MonkeyPatch, name: str, failing_call: int) -> list[int]:
    real = getattr(os, name)
    calls = [0]

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == failing_call:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, flaky)
    return calls


@pytest.mark.parametrize(("function", "failing_call"), [
    ("replace", 1), ("replace", 2), ("replace", 3), ("fsync", 2), ("fsync", 3),
])
def test_a_failure_midway_leaves_all_three_files_untouched(
    catalog: Catalog,
    files: BandFiles,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    function: str,
    failing_call: int,
) -> None:
    apply_bands(catalog, csv_path=files.csv)
    set_override("openai:gpt-5", cost_tier="premium", catalog=catalog, csv_path=files.csv)
    before = snapshot(files)
    config = narrower_standard_config(tmp_path / "bands.json")

    calls = _fail_on_call(monkeypatch, function, failing_call)
    with pytest.raises(CatalogError, match="the previous files are unchanged"):
        apply_bands(catalog, config_path=config, csv_path=files.csv)
    assert calls[0] >= failing_call

    assert snapshot(files) == before
    assert sorted(p.name for p in files.csv.parent.iterdir()) == [
        "bands_audit.jsonl", "bands_state.json", "models.csv",
    ]
    monkeypatch.undo()
    result = apply_bands(catalog, config_path=config, csv_path=files.csv)
    assert len(result.moves) == 3  # the failed attempt is made again in full


def test_a_failed_first_apply_leaves_no_files(
    catalog: Catalog, files: BandFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_on_call(monkeypatch, "replace", 2)
    with pytest.raises(CatalogError):
        apply_bands(catalog, csv_path=files.csv)
    assert list(files.csv.parent.iterdir()) == []


# --------------------------------------------------------------------------- overrides


def test_an_override_survives_a_config_change_and_shows_in_the_csv(
    catalog: Catalog, files: BandFiles, tmp_path: Path
) -> None:
    apply_bands(catalog, csv_path=files.csv)
    result = set_override(
        "claude-sonnet-4-5",  # any name of the model will do
        context_band="large",
        catalog=catalog,
        csv_path=files.csv,
    )
    assert [(m.old_band, m.new_band, m.reason) for m in result.moves] == [
        ("standard", "large", "manual override")
    ]
    assert read_audit(files.audit)[-1]["reason"] == "manual override"

    config = narrower_standard_config(tmp_path / "bands.json")
    apply_bands(catalog, config_path=config, csv_path=files.csv)
    rows = {r["model_id"]: r for r in read_csv(files.csv)}
    sonnet = rows["anthropic:claude-sonnet-4-5"]
    assert (sonnet["context_band"], sonnet["override"]) == ("large", "context_band=large")
    assert rows["groq:llama-3.1-8b-instant"]["context_band"] == "extended"

    set_override(
        "openai:gpt-5", cost_tier="premium", catalog=catalog, config_path=config,
        csv_path=files.csv,
    )
    gpt5 = {r["model_id"]: r for r in read_csv(files.csv)}["openai:gpt-5"]
    assert (gpt5["cost_tier"], gpt5["override"]) == ("premium", "cost_tier=premium")

    cleared = set_override(
        "anthropic:claude-sonnet-4-5", clear=True, catalog=catalog,
        config_path=config, csv_path=files.csv,
    )
    assert [(m.old_band, m.new_band, m.reason) for m in cleared.moves] == [
        ("large", "extended", "override cleared")
    ]
    sonnet = {r["model_id"]: r for r in read_csv(files.csv)}["anthropic:claude-sonnet-4-5"]
    assert (sonnet["context_band"], sonnet["override"]) == ("extended", "")


def test_an_override_to_a_band_that_does_not_exist_lists_the_valid_names(
    catalog: Catalog, files: BandFiles
) -> None:
    with pytest.raises(CatalogError) as caught:
        set_override("openai:gpt-5", context_band="huge", catalog=catalog, csv_path=files.csv)
    assert "no context band 'huge' in the bands config; the context bands are: compact, " \
        "standard, extended, large" in str(caught.value)
    with pytest.raises(CatalogError, match="the cost tiers are: free, economy, value, premium"):
        set_override("openai:gpt-5", cost_tier="unknown", catalog=catalog, csv_path=files.csv)
    assert not files.csv.exists()


def test_an_override_of_an_unknown_model_is_unknown_model_error(
    catalog: Catalog, files: BandFiles
) -> None:
    with pytest.raises(UnknownModelError, match="gpt-5"):
        set_override("openai:gpt-5x", context_band="large", catalog=catalog, csv_path=files.csv)


def test_an_override_whose_band_was_removed_is_dropped_with_a_warning(
    catalog: Catalog, files: BandFiles, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    set_override("openai:gpt-5", context_band="large", catalog=catalog, csv_path=files.csv)
    raw = bundled_config_raw()
    raw["context_window_bands"] = raw["context_window_bands"][:3]
    raw["context_window_bands"][2]["max_tokens"] = None
    config = write_config(tmp_path / "three.json", raw)
    with caplog.at_level(logging.WARNING, logger="modelrouter.bands"):
        apply_bands(catalog, config_path=config, csv_path=files.csv)
    assert (
        "Dropped override context_band=large of openai:gpt-5: no context_band 'large' in the "
        "bands config"
    ) in caplog.messages
    gpt5 = {r["model_id"]: r for r in read_csv(files.csv)}["openai:gpt-5"]
    assert (gpt5["context_band"], gpt5["override"]) == ("extended", "")
