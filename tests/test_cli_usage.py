"""`modelrouter usage`: the table, --json, --csv, and the exit codes a user sees."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import typer

from modelrouter.catalog.pricing import Usage
from modelrouter.cli._common import run_app
from modelrouter.cli.usage import CSV_COLUMNS, usage
from modelrouter.routing.records import AttemptRecord
from modelrouter.usage.ledger import DATABASE_URL_ENV, SqliteLedger


def make_app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def root() -> None:
        """Test root."""

    app.command("usage")(usage)
    return app


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run_app(make_app(), ["usage", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "usage.db"
    rows = [
        AttemptRecord(
            request_id="r1", time=datetime(2026, 11, 2, 10, tzinfo=UTC),
            model="openai:gpt-5-mini", provider="openai", tier="balanced", outcome="success",
            fallback_depth=0, free=False, usage=Usage(input_tokens=1000, output_tokens=100),
            cost_usd=Decimal("0.00045"), latency_s=0.8, key="team-a", task="chat",
        ),
        AttemptRecord(
            request_id="r2", time=datetime(2026, 11, 5, 10, tzinfo=UTC),
            model="openrouter:openai/gpt-oss-120b:free", provider="openrouter",
            tier="balanced", outcome="success", fallback_depth=0, free=True,
            usage=Usage(input_tokens=2000, output_tokens=300), cost_usd=Decimal(0),
            latency_s=1.2, ttft_s=0.3,
        ),
        AttemptRecord(
            request_id="r0", time=datetime(2026, 10, 30, 10, tzinfo=UTC),
            model="openai:gpt-5-mini", provider="openai", tier="balanced", outcome="error",
            fallback_depth=0, free=False, latency_s=0.1, error_class="RateLimitError",
        ),
    ]
    with SqliteLedger(path) as ledger:
        for record in rows:
            ledger.record(record)
    return f"sqlite://{path}"


def test_table_by_model(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, err = run(capsys, "--by", "model", "--since", "2026-11-01", "--database", db)
    assert code == 0, err
    assert "Usage by model since 2026-11-01" in out
    assert "openai:gpt-5-mini" in out and "openrouter:openai/gpt-oss-120b:free" in out
    assert "TOTAL" in out and "0.00045" in out and "50.0%" in out  # free share


def test_json_is_a_list_of_groups_with_exact_money(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    code, out, err = run(capsys, "--by", "day", "--since", "2026-11-01", "--until",
                         "2026-11-05", "--json", "--database", db)
    assert code == 0, err
    data = json.loads(out)
    assert [d["group"] for d in data] == ["2026-11-02", "total"]
    assert data[0]["cost_usd"] == "0.00045" and data[0]["requests"] == 1
    assert data[-1]["is_total"] is True and isinstance(data[-1]["savings_usd"], str)


def test_csv_has_a_header_and_a_row_per_group(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    code, out, err = run(capsys, "--by", "provider", "--csv", "--database", db)
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r[0] for r in rows[1:]] == ["openai", "openrouter", "total"]
    openai = dict(zip(CSV_COLUMNS, rows[1], strict=True))
    assert openai["requests"] == "2" and openai["attempts"] == "2"
    assert openai["success_rate"] == "0.5" and openai["cost_usd"] == "0.00045"


def test_env_var_picks_the_ledger(
    capsys: pytest.CaptureFixture[str], db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, db)
    code, out, _ = run(capsys, "--by", "tier", "--json")
    assert code == 0 and json.loads(out)[0]["group"] == "balanced"


def test_empty_ledger_is_a_friendly_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert (code, err) == (0, "")
    assert out.strip() == "No usage recorded yet."
    code, out, _ = run(capsys, "--since", "2030-01-01", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, _ = run(capsys, "--csv")
    assert code == 0 and out.strip() == ",".join(CSV_COLUMNS)


@pytest.mark.parametrize(("argv", "message"), [
    (["--since", "yesterday"], "--since 'yesterday' is not a date"),
    (["--until", "2026-13-01"], "--until '2026-13-01' is not a date"),
    (["--since", "2026-11-05", "--until", "2026-11-01"], "must be after --since"),
    (["--by", "week"], "--by 'week': choose one of day, month, model"),
    (["--json", "--csv"], "--json and --csv: choose one"),
])
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err


def test_bad_database_url_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--database", "mysql://localhost/x")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "unsupported scheme 'mysql'" in err


def test_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "Example: modelrouter usage --by model --since 2026-11-01" in out
