"""`modelrouter bands show | apply | override`: output, files, exit codes, one-line errors."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelrouter.catalog.loader import reset_catalog
from modelrouter.cli import main

# (model_id, context window, input $/M, output $/M)
MODELS = [
    ("openai:gpt-5", 400_000, "1.25", "10"),
    ("anthropic:claude-sonnet-4-5", 200_000, "3", "15"),
    ("groq:llama-3.1-8b-instant", 131_072, "0.05", "0.08"),
]


def write_catalog(root: Path) -> Path:
    for model_id, context, inp, out in MODELS:
        provider, name = model_id.split(":", 1)
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
        }
        (root / "models" / provider).mkdir(parents=True, exist_ok=True)
        (root / "models" / provider / f"{name}.yaml").write_text(yaml.safe_dump(spec))
        pricing = {
            "provider": provider,
            "pricing_versions": [
                {"effective_date": "2025-01-01", "models": {name: {"input": inp, "output": out}}}
            ],
        }
        (root / "pricing").mkdir(parents=True, exist_ok=True)
        (root / "pricing" / f"{provider}.yaml").write_text(yaml.safe_dump(pricing))
    return root


@pytest.fixture(autouse=True)
def small_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_catalog(tmp_path / "catalog")
    monkeypatch.setenv("MODELROUTER_CATALOG_DIR", str(root))
    reset_catalog()
    return root


@pytest.fixture
def bands_dir() -> Path:
    return Path(os.environ["MODELROUTER_HOME"]) / "bands"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["bands", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(err: str, *fragments: str) -> None:
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


def csv_rows(path: Path) -> dict[str, dict[str, str]]:
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
    return {row["model_id"]: row for row in rows}


def gap_config(path: Path) -> Path:
    from modelrouter.catalog.band_store import bundled_bands_config_path

    raw: dict[str, Any] = json.loads(bundled_bands_config_path().read_text())
    raw["context_window_bands"][2]["min_tokens"] = 300_000
    path.write_text(json.dumps(raw))
    return path


# --------------------------------------------------------------------------- help


@pytest.mark.parametrize(
    ("command", "example"),
    [
        ("show", "Example: modelrouter bands show --json"),
        ("apply", "Example: modelrouter bands apply --dry-run"),
        ("override", "Example: modelrouter bands override openai:gpt-5 --context-band large"),
    ],
)
def test_every_command_has_help_with_an_example(
    capsys: pytest.CaptureFixture[str], command: str, example: str
) -> None:
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert example in out


# --------------------------------------------------------------------------- apply


def test_apply_writes_the_csv_and_prints_the_moves(
    capsys: pytest.CaptureFixture[str], bands_dir: Path
) -> None:
    code, out, err = run(capsys, "apply")
    assert (code, err) == (0, "")
    assert "Assigned openai:gpt-5 (400,000 tokens) to extended band" in out.splitlines()
    assert "Extended band: 1 model - [openai:gpt-5]" in out.splitlines()
    assert f"Wrote {bands_dir / 'models.csv'} (3 models, 6 moves)" in out
    rows = csv_rows(bands_dir / "models.csv")
    assert rows["openai:gpt-5"] == {
        "model_id": "openai:gpt-5",
        "provider": "openai",
        "context_window": "400000",
        "blended_usd_per_mtok": "3.4375",
        "context_band": "extended",
        "cost_tier": "value",
        "override": "",
    }
    assert (bands_dir / "bands_state.json").exists()
    assert len((bands_dir / "bands_audit.jsonl").read_text().splitlines()) == 6

    code, out, _ = run(capsys, "apply")
    assert code == 0
    assert out.startswith("Bands are up to date")
    assert len((bands_dir / "bands_audit.jsonl").read_text().splitlines()) == 6


def test_apply_dry_run_prints_what_it_would_do_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], bands_dir: Path
) -> None:
    code, out, _ = run(capsys, "apply", "--dry-run")
    assert code == 0
    assert "Would assign openai:gpt-5 (400,000 tokens) to extended band" in out
    assert "Dry run: 6 moves; nothing written." in out
    assert not bands_dir.exists()


def test_apply_with_csv_keeps_all_three_files_beside_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bands_dir: Path
) -> None:
    target = tmp_path / "elsewhere" / "models.csv"
    code, _, _ = run(capsys, "apply", "--csv", str(target))
    assert code == 0
    assert sorted(p.name for p in target.parent.iterdir()) == [
        "bands_audit.jsonl", "bands_state.json", "models.csv",
    ]
    assert not bands_dir.exists()


def test_apply_with_a_changed_config_moves_models(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bands_dir: Path
) -> None:
    run(capsys, "apply")
    config = tmp_path / "bands.json"
    raw = json.loads(gap_config(config).read_text())
    raw["context_window_bands"][2]["min_tokens"] = 128_000
    raw["context_window_bands"][1]["max_tokens"] = 128_000
    config.write_text(json.dumps(raw))
    code, out, _ = run(capsys, "apply", "--config", str(config), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["written"] is True
    assert [(m["model"], m["new_band"], m["reason"]) for m in result["moves"]] == [
        ("anthropic:claude-sonnet-4-5", "extended", "bands config changed"),
        ("groq:llama-3.1-8b-instant", "extended", "bands config changed"),
    ]
    assert csv_rows(bands_dir / "models.csv")["groq:llama-3.1-8b-instant"]["context_band"] == (
        "extended"
    )


def test_a_config_with_a_gap_is_one_line_naming_the_bands(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bands_dir: Path
) -> None:
    config = gap_config(tmp_path / "bands.json")
    code, out, err = run(capsys, "apply", "--config", str(config))
    assert code == 1 and out == ""
    assert_one_line_error(
        err,
        str(config),
        "gap between 'standard' (ends 256,000) and 'extended' (starts 300,000)",
    )
    assert not bands_dir.exists()


def test_a_missing_config_file_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "show", "--config", str(tmp_path / "nope.json"))
    assert code == 1
    assert_one_line_error(err, "nope.json: cannot read the bands config")


def test_malformed_json_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "bands.json"
    config.write_text('{"version": 1,\n  "context_window_bands": [}')
    code, _, err = run(capsys, "apply", "--config", str(config))
    assert code == 1
    assert_one_line_error(err, "bands.json: invalid JSON at line 2")


# --------------------------------------------------------------------------- show


def test_show_prints_the_bands_and_each_model(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "160")  # rich truncates long model ids at 80 columns
    code, out, _ = run(capsys, "show")
    assert code == 0
    for text in ("compact", "32,000", "premium", "$5", "anthropic:claude-sonnet-4-5", "3.4375"):
        assert text in out
    assert "override" not in out  # the column appears only once a model is pinned
    run(capsys, "override", "openai:gpt-5", "--cost-tier", "premium")
    code, out, _ = run(capsys, "show")
    assert "cost_tier=premium" in out


def test_show_json_has_the_config_and_the_assignments(
    capsys: pytest.CaptureFixture[str], bands_dir: Path
) -> None:
    code, out, _ = run(capsys, "show", "--json")
    assert code == 0
    data = json.loads(out)
    assert [b["name"] for b in data["config"]["cost_tier_bands"]] == [
        "free", "economy", "value", "premium",
    ]
    by_model = {a["model_id"]: a for a in data["assignments"]}
    assert by_model["anthropic:claude-sonnet-4-5"]["context_band"] == "standard"
    assert by_model["anthropic:claude-sonnet-4-5"]["cost_tier"] == "premium"
    assert by_model["groq:llama-3.1-8b-instant"]["blended_usd_per_mtok"] == "0.0575"
    assert not bands_dir.exists()  # show computes in memory


# --------------------------------------------------------------------------- override


def test_override_pins_a_band_that_survives_apply_and_shows_in_the_csv(
    capsys: pytest.CaptureFixture[str], bands_dir: Path
) -> None:
    run(capsys, "apply")
    code, out, _ = run(capsys, "override", "claude-sonnet-4-5", "--context-band", "large")
    assert code == 0
    assert out.splitlines()[0] == (
        "Assigned anthropic:claude-sonnet-4-5 (200,000 tokens) to large band "
        "(was standard; manual override)"
    )
    assert "anthropic:claude-sonnet-4-5: context band large" in out
    row = csv_rows(bands_dir / "models.csv")["anthropic:claude-sonnet-4-5"]
    assert (row["context_band"], row["override"]) == ("large", "context_band=large")

    code, out, _ = run(capsys, "apply")
    assert out.startswith("Bands are up to date")
    code, out, _ = run(capsys, "show", "--json")
    by_model = {a["model_id"]: a for a in json.loads(out)["assignments"]}
    assert by_model["anthropic:claude-sonnet-4-5"]["override"] == {"context_band": "large"}

    code, out, _ = run(capsys, "override", "anthropic:claude-sonnet-4-5", "--clear")
    assert code == 0
    assert (
        "Assigned anthropic:claude-sonnet-4-5 (200,000 tokens) to standard band "
        "(was large; override cleared)"
    ) in out
    row = csv_rows(bands_dir / "models.csv")["anthropic:claude-sonnet-4-5"]
    assert (row["context_band"], row["override"]) == ("standard", "")


def test_override_of_an_unknown_model_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "override", "openai:gpt-5x", "--context-band", "large")
    assert code == 1
    assert_one_line_error(err, "unknown model 'openai:gpt-5x'", "did you mean 'openai:gpt-5'")


def test_override_to_an_unknown_band_lists_the_bands(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "override", "openai:gpt-5", "--cost-tier", "luxury")
    assert code == 1
    assert_one_line_error(err, "no cost tier 'luxury'", "free, economy, value, premium")


@pytest.mark.parametrize(
    "args",
    [["openai:gpt-5"], ["openai:gpt-5", "--clear", "--context-band", "large"]],
    ids=["nothing-to-do", "clear-and-pin"],
)
def test_override_needs_a_band_or_clear(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, _, err = run(capsys, "override", *args)
    assert code == 2
    assert_one_line_error(err)


def test_the_installed_command_never_prints_a_traceback(
    tmp_path: Path, small_catalog: Path
) -> None:
    config = gap_config(tmp_path / "bands.json")
    script = Path(sys.executable).parent / "modelrouter"
    completed = subprocess.run(
        [str(script), "bands", "apply", "--config", str(config)],
        capture_output=True,
        text=True,
        env={**os.environ, "MODELROUTER_CATALOG_DIR": str(small_catalog)},
        check=False,
    )
    assert completed.returncode == 1
    assert completed.stdout == ""
    assert_one_line_error(completed.stderr, "gap between 'standard'")
