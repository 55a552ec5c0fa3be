"""`modelrouter catalog import` and `modelrouter catalog validate`, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modelrouter.cli import main
from tests.helpers import model_doc, write_model, write_pricing

LITELLM = Path("litellm") / "model_prices_and_context_window.json"
LITELLM_OLD = Path("litellm") / "model_prices_and_context_window.litellm-1.100.0.json"
OPENROUTER = Path("openrouter") / "models_api_snapshot.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code != 0
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err


# --------------------------------------------------------------------------- import


@pytest.mark.needs_shared
def test_dry_run_writes_nothing(
    capsys: pytest.CaptureFixture[str], shared_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "catalog"
    code, stdout, _ = run(
        capsys, "catalog", "import", "openrouter", str(shared_data / OPENROUTER),
        "--out", str(out), "--dry-run",
    )
    assert code == 0
    assert not out.exists()
    assert "+ openrouter:meta-llama/llama-3.3-70b-instruct:free" in stdout
    assert "Dry run: nothing written." in stdout
    assert "dynamic price (router) 3" in stdout


@pytest.mark.needs_shared
def test_import_then_validate(
    capsys: pytest.CaptureFixture[str], shared_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "catalog"
    code, stdout, _ = run(
        capsys, "catalog", "import", "litellm", str(shared_data / LITELLM), "--out", str(out),
        "--provider", "anthropic", "--provider", "google", "--json",
    )
    assert code == 0
    body = json.loads(stdout)
    assert {"added", "changed", "unchanged", "skipped"} <= set(body)
    assert body["changed"] == [] and body["unchanged"] == 0
    assert "anthropic:claude-sonnet-4-5" in body["added"]
    assert {a.split(":")[0] for a in body["added"]} == {"anthropic", "google"}
    assert body["skipped"]["other provider (--provider)"] > 0
    assert body["written"]["model_files"] == len(body["added"])
    assert sorted(p.name for p in (out / "pricing").iterdir()) == ["anthropic.yaml", "google.yaml"]

    code, stdout, err = run(capsys, "catalog", "validate", str(out))
    assert code == 0, err
    n = len(body["added"])
    assert stdout.splitlines()[0].startswith(f"OK: {n} models, {n} priced")
    assert "warning" not in stdout

    code, stdout, _ = run(capsys, "catalog", "validate", str(out), "--json")
    assert code == 0
    assert json.loads(stdout) | {"directory": None} == {
        "ok": True, "directory": None, "models": n, "priced": n, "warnings": [],
    }


@pytest.mark.needs_shared
def test_json_reports_real_price_changes(
    capsys: pytest.CaptureFixture[str],
    shared_data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # a table as wide as a terminal, not clipped
    out = tmp_path / "catalog"
    code, _, _ = run(
        capsys, "catalog", "import", "litellm", str(shared_data / LITELLM), "--out", str(out)
    )
    assert code == 0
    before = _tree(out)
    code, stdout, _ = run(
        capsys, "catalog", "import", "litellm", str(shared_data / LITELLM_OLD),
        "--out", str(out), "--dry-run", "--json",
    )
    assert code == 0
    assert _tree(out) == before  # dry run on an existing catalog changes no byte
    body = json.loads(stdout)
    changed = {(c["model"], c["field"]): c for c in body["changed"]}
    assert changed[("mistral:magistral-medium-latest", "input")] == {
        "model": "mistral:magistral-medium-latest",
        "field": "input",
        "old": "1.5",
        "new": "2",
        "change_pct": 33.33,
    }
    assert changed[("mistral:magistral-medium-latest", "output")]["change_pct"] == -33.33
    assert body["unchanged"] >= 150
    assert body["compared_with"] == str(out)

    code, stdout, _ = run(
        capsys, "catalog", "import", "litellm", str(shared_data / LITELLM_OLD),
        "--out", str(out), "--dry-run",
    )
    assert code == 0
    assert "Changed prices" in stdout and "+33.33%" in stdout and "-60.00%" in stdout


@pytest.mark.needs_shared
def test_refuses_a_directory_that_is_not_a_catalog(
    capsys: pytest.CaptureFixture[str], shared_data: Path, tmp_path: Path
) -> None:
    (tmp_path / "report.txt").write_text("keep me")
    code, _, err = run(
        capsys, "catalog", "import", "openrouter", str(shared_data / OPENROUTER),
        "--out", str(tmp_path),
    )
    _assert_one_line_error(code, err, str(tmp_path), "not a catalog")
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]


@pytest.mark.parametrize(
    ("setup", "argv_source", "needles"),
    [
        ("missing", "litellm", ["no such file"]),
        ("not-json", "litellm", ["not valid JSON"]),
        ("json", "litelm", ["unknown source 'litelm'", "did you mean 'litellm'"]),
        ("wrong-shape", "openrouter", ["does not look like OpenRouter"]),
    ],
)
def test_import_errors_are_one_line(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    setup: str,
    argv_source: str,
    needles: list[str],
) -> None:
    source_file = tmp_path / "source.json"
    contents: dict[str, Any] = {
        "not-json": "this is not JSON {",
        "json": "{}",
        "wrong-shape": json.dumps({"gpt-5": {"litellm_provider": "openai"}}),
    }
    if setup in contents:
        source_file.write_text(contents[setup])
    out = tmp_path / "out"
    code, stdout, err = run(
        capsys, "catalog", "import", argv_source, str(source_file), "--out", str(out)
    )
    _assert_one_line_error(code, err, *needles)
    assert stdout == ""
    assert not out.exists()


def test_unknown_provider_filter_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source_file = tmp_path / "or.json"
    source_file.write_text('{"data": []}')
    code, _, err = run(
        capsys, "catalog", "import", "openrouter", str(source_file), "--out",
        str(tmp_path / "out"), "--provider", "gemini",
    )
    _assert_one_line_error(code, err, "unknown provider 'gemini'", "did you mean 'google'")


# --------------------------------------------------------------------------- validate


def test_validate_names_the_broken_file_and_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write_model(tmp_path, model_doc("acme:good"))
    bad = write_model(
        tmp_path, model_doc("acme:bad", metadata={"context_window_input": "lots"})
    )
    write_pricing(tmp_path, "acme", [{"effective_date": "2026-01-01", "models": {
        "good": {"input": "1", "output": "2"}, "bad": {"input": "1", "output": "2"},
    }}])
    code, stdout, err = run(capsys, "catalog", "validate", str(tmp_path))
    _assert_one_line_error(code, err, str(bad), "metadata.context_window_input")
    assert code == 1 and stdout == ""


def test_validate_warns_but_passes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_model(tmp_path, model_doc("acme:priced"))
    write_model(tmp_path, model_doc("acme:unpriced"))
    write_pricing(tmp_path, "acme", [
        {"effective_date": "2026-01-01", "models": {"priced": {"input": "1", "output": "2"}}}
    ])
    monkeypatch.setenv("MODELROUTER_CATALOG_DIR", str(tmp_path))  # the default DIR
    code, stdout, _ = run(capsys, "catalog", "validate")
    assert code == 0
    lines = stdout.splitlines()
    assert lines[0] == f"OK: 2 models, 1 priced ({tmp_path})"
    assert lines[1].startswith("warning: acme:unpriced: no pricing entry")


def test_validate_a_directory_that_is_no_catalog(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "catalog", "validate", str(tmp_path / "nowhere"))
    _assert_one_line_error(code, err, "not a catalog directory")


# --------------------------------------------------------------------------- help


@pytest.mark.parametrize(
    "argv", [["catalog", "--help"], ["catalog", "import", "--help"], ["catalog", "validate", "-h"]]
)
def test_every_command_has_an_example(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, stdout, _ = run(capsys, *argv)
    assert code == 0
    assert "Example: modelrouter catalog " in " ".join(stdout.split())  # however it wraps
