"""CLI: cost, prices history, models show/list — output and exit codes a user sees."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from modelrouter.catalog.loader import reset_catalog
from modelrouter.cli import main
from tests.helpers import model_doc, write_model, write_pricing


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def small_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_model(tmp_path, model_doc("acme:chat-1", metadata={"aliases": ["chat"]}))
    write_model(tmp_path, model_doc("acme:ghost"))
    write_pricing(tmp_path, "acme", [
        {"effective_date": "2025-01-01", "models": {"chat-1": {"input": "2", "output": "8"}}},
        {"effective_date": "2025-06-01", "models": {"chat-1": {"input": "1", "output": "10"}}},
    ])
    monkeypatch.setenv("MODELROUTER_CATALOG_DIR", str(tmp_path))
    reset_catalog()
    return tmp_path


def test_cost_reference_case_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "cost", "claude-sonnet-4-5", "--input", "1000000",
                         "--output", "1000000", "--json")
    assert code == 0, err
    body = json.loads(out)
    assert body["model"] == "anthropic:claude-sonnet-4-5"
    assert body["currency"] == "USD"
    assert body["total"] == "18.00"
    assert body["input"] == "3.00" and body["output"] == "15.00"
    assert {"cached_read", "cache_write", "reasoning"} <= set(body)


def test_cost_table_and_past_date(capsys: pytest.CaptureFixture[str], small_catalog: Path) -> None:
    code, out, _ = run(capsys, "cost", "chat", "--input", "1000000", "--output", "1000000",
                       "--on", "2025-03-01")
    assert code == 0
    assert "10.00" in out and "2025-01-01" in out
    code, out, _ = run(capsys, "cost", "chat", "--input", "1000000", "--output", "1000000",
                       "--json")
    assert json.loads(out)["total"] == "11.00"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["cost", "acme:chat-9", "--input", "1"], "did you mean 'acme:chat-1'"),
        (["cost", "chat", "--on", "yesterday"], "--on 'yesterday' is not a date"),
        (["cost", "chat", "--input", "5", "--cached-input", "9"], "exceed input tokens"),
        (["cost", "acme:ghost", "--input", "1"], "no price for 'acme:ghost'"),
        (["cost", "chat", "--on", "2024-01-01", "--input", "1"], "first price is from 2025-01-01"),
        (["prices", "history", "nope"], "unknown model 'nope'"),
        (["models", "show", "nope"], "unknown model 'nope'"),
        (["models", "list", "--provider", "nobody"], "unknown provider 'nobody'"),
        (["models", "list", "--capability", "telepathy"], "unknown capability 'telepathy'"),
    ],
)
def test_errors_are_one_line_and_non_zero(
    capsys: pytest.CaptureFixture[str], small_catalog: Path, argv: list[str], needle: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code != 0
    assert needle in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out


def test_negative_tokens_rejected_by_usage_error(
    capsys: pytest.CaptureFixture[str], small_catalog: Path
) -> None:
    code, _, err = run(capsys, "cost", "chat", "--input", "-5")
    assert code == 2 and "Traceback" not in err


def test_prices_history(capsys: pytest.CaptureFixture[str], small_catalog: Path) -> None:
    code, out, _ = run(capsys, "prices", "history", "chat", "--json")
    assert code == 0
    body = json.loads(out)
    assert [h["effective_date"] for h in body["history"]] == ["2025-01-01", "2025-06-01"]
    # No cache prices in this catalog: cached tokens are billed at the input price, which fell.
    assert body["history"][1]["change_pct"] == {
        "input": "-50.00", "output": "25.00", "cache_read": "-50.00", "cache_write": "-50.00"
    }
    code, out, _ = run(capsys, "prices", "history", "chat")
    assert "-50.00%" in out and "+25.00%" in out


def test_models_show_json(capsys: pytest.CaptureFixture[str], small_catalog: Path) -> None:
    code, out, _ = run(capsys, "models", "show", "chat", "--json")
    assert code == 0
    body = json.loads(out)
    assert body["model_id"] == "acme:chat-1"
    assert body["price"]["input"] == "1"
    assert "large_context" in body["effective_capabilities"]


def test_models_list_filters_and_json(
    capsys: pytest.CaptureFixture[str], small_catalog: Path
) -> None:
    code, out, _ = run(capsys, "models", "list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["id"] for r in rows] == ["acme:chat-1", "acme:ghost"]  # unpriced last
    assert rows[0]["cost_tier"] and rows[0]["context_band"]
    code, out, _ = run(capsys, "models", "list", "--free", "--json")
    assert json.loads(out) == []


def test_every_command_help_has_an_example() -> None:
    commands = [
        [], ["cost"], ["models", "list"], ["models", "show"], ["prices", "history"],
        ["bands", "show"], ["bands", "apply"], ["bands", "override"],
        ["catalog", "validate"], ["catalog", "import"], ["select"], ["chat"], ["demo"],
        ["config", "check"], ["config", "show"], ["fake-provider"], ["usage"],
        ["budgets", "set"], ["budgets", "list"], ["budgets", "show"], ["cache", "stats"],
        ["cache", "clear"], ["discover"], ["alerts"], ["recommend"], ["serve"],
        ["keys", "create"], ["keys", "list"], ["keys", "revoke"], ["keys", "rotate"],
        ["route", "score"], ["route", "eval"],
    ]
    for argv in commands:
        out = subprocess.run(
            [sys.executable, "-m", "modelrouter", *argv, "--help"],
            capture_output=True, text=True, check=False,
        )
        assert out.returncode == 0, (argv, out.stderr)
        assert "Example" in out.stdout, argv
