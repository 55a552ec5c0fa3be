"""`modelrouter alerts` and `modelrouter recommend` over a real ledger."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from modelrouter.catalog.pricing import Usage
from modelrouter.cli import main
from modelrouter.routing.records import AttemptRecord
from modelrouter.usage.ledger import open_ledger, sqlite_url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def attempt(i: int, model: str, *, depth: int = 0, cost: str = "0.02", free: bool = False,
            latency: float = 0.5, task: str | None = "classification") -> AttemptRecord:
    return AttemptRecord(
        request_id=f"req_{i}", time=datetime.now(UTC), model=model,
        provider=model.split(":")[0], tier="advanced", outcome="success", fallback_depth=depth,
        free=free, usage=Usage(4000, 800), cost_usd=Decimal(cost), latency_s=latency, task=task)


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    url = sqlite_url(tmp_path / "usage.db")
    with open_ledger(url) as ledger:
        for i in range(30):  # 30 requests, a third fell back, two slow: p95 = 40 s
            ledger.record(attempt(i, "anthropic:claude-opus-4-5", depth=1 if i % 3 == 0 else 0,
                                  latency=40.0 if i < 2 else 0.5))
    return url


def test_alerts_fire_once_and_list(capsys: pytest.CaptureFixture[str], ledger_url: str) -> None:
    code, out, _ = run(capsys, "alerts", "--database", ledger_url, "--json")
    assert code == 0
    body = json.loads(out)
    assert body["requests"] == 30
    names = sorted(a["name"] for a in body["current"])
    assert names == ["fallback_rate", "p95_latency"]
    assert {a["name"] for a in body["fired_now"]} == set(names)
    code, out, _ = run(capsys, "alerts", "--database", ledger_url, "--json")
    again = json.loads(out)
    assert again["fired_now"] == []  # once per window
    assert len(again["recent"]) == len(names)


def test_recommend_suggests_a_cheaper_same_quality_model(
    capsys: pytest.CaptureFixture[str], ledger_url: str
) -> None:
    code, out, _ = run(capsys, "recommend", "--database", ledger_url, "--json")
    assert code == 0
    body = json.loads(out)
    assert body["requests"] == 30 and body["free_share"] == 0
    [switch] = body["switches"]
    assert switch["model"] == "anthropic:claude-opus-4-5" and switch["task"] == "classification"
    assert Decimal(switch["monthly_saving_usd"]) > 0
    code, out, _ = run(capsys, "recommend", "--database", ledger_url)
    assert "Cheaper models of the same quality" in out and "under the 70%–90% target" in out


def test_recommend_bad_date(capsys: pytest.CaptureFixture[str], ledger_url: str) -> None:
    code, _, err = run(capsys, "recommend", "--since", "last week", "--database", ledger_url)
    assert code == 2 and "is not a date" in err
