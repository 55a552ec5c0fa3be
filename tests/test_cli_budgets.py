"""`modelrouter budgets set|list|show|remove`, as a user runs them."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest

from modelrouter.cli._common import run_app
from modelrouter.cli.budgets import app
from modelrouter.usage.budgets import open_budget_store


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run_app(app, list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("MODELROUTER_CONFIG", "MODELROUTER_REDIS_URL", "AI_MONTHLY_BUDGET",
                "DEFAULT_BUDGET", "MODELROUTER_BUDGET_KEY_PREFIX"):
        monkeypatch.delenv(var, raising=False)


def test_set_then_show_reads_back_the_default_store(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "set", "key:alice", "--limit", "2.50", "--period", "day")
    assert code == 0 and out == "key:alice: $2.50 per day\n"
    assert (Path(os.environ["MODELROUTER_HOME"]) / "budgets.db").is_file()
    store = open_budget_store(None)
    store.settle(store.reserve(["key:alice"], D("1"), request_id="r"), D("0.5"))
    store.reserve(["key:alice"], D("0.25"), request_id="r2")
    store.close()
    code, out, _ = run(capsys, "show", "key:alice", "--json")
    assert code == 0
    body = json.loads(out)
    assert body["limit_usd"] == "2.5" and body["spent_usd"] == "0.5"
    assert body["reserved_usd"] == "0.25" and body["remaining_usd"] == "1.75"
    assert body["percent_used"] == "20.00" and body["period"] == "day"
    assert body["resets_at"].endswith("T00:00:00+00:00")
    code, out, _ = run(capsys, "show", "key:alice")
    assert code == 0
    assert "spent      $0.50" in out and "remaining  $1.75" in out and "20.00 %" in out


def test_list_includes_the_env_budgets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_MONTHLY_BUDGET", "50")
    monkeypatch.setenv("DEFAULT_BUDGET", "5")
    assert run(capsys, "set", "team:research", "--limit", "100", "--period", "total")[0] == 0
    code, out, _ = run(capsys, "list", "--json")
    assert code == 0
    rows = {row["scope"]: row for row in json.loads(out)}
    assert set(rows) == {"global", "key:*", "team:research"}
    assert rows["global"]["source"] == "config" and rows["global"]["window"]
    assert rows["key:*"]["limit_usd"] == "5" and "spent_usd" not in rows["key:*"]
    assert rows["team:research"]["window"] == "total"
    code, out, _ = run(capsys, "list")
    assert code == 0 and "team:research" in out and "each key" in out
    # A key without its own budget shows the per-key default.
    code, out, _ = run(capsys, "show", "key:bob", "--json")
    assert code == 0 and json.loads(out)["budget_scope"] == "key:*"


def test_cli_budget_wins_over_config(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_MONTHLY_BUDGET", "50")
    run(capsys, "set", "global", "--limit", "7", "--period", "day")
    code, out, _ = run(capsys, "show", "global", "--json")
    assert code == 0 and json.loads(out)["limit_usd"] == "7"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (("set", "user:bob", "--limit", "1"), "invalid budget scope"),
        (("set", "key:a", "--limit", "abc"), "--limit 'abc'"),
        (("set", "key:a", "--limit", "-3"), "--limit '-3'"),
        (("set", "key:a", "--limit", "0.0000000001"), "9 decimal places"),
        (("set", "key:a", "--limit", "1", "--period", "week"), "--period 'week'"),
        (("show", "nobody"), "invalid budget scope"),
        (("show", "key:*"), "key:* is the default"),
        (("set", "key:a", "--limit", "1", "--store", "mysql://x"), "unsupported"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], needle: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and needle in err, err


def test_show_without_a_budget_and_remove(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "show", "team:none")
    assert code == 1 and "no budget applies to 'team:none'" in err
    run(capsys, "set", "tag:batch", "--limit", "3")
    assert run(capsys, "remove", "tag:batch")[0] == 0
    code, _, err = run(capsys, "remove", "tag:batch")
    assert code == 1 and "no budget defined" in err
    code, out, _ = run(capsys, "list")
    assert code == 0 and "no budgets" in out


def test_explicit_sqlite_store(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'team.db'}"
    assert run(capsys, "set", "global", "--limit", "9", "--store", url)[0] == 0
    assert (tmp_path / "team.db").is_file()
    code, out, _ = run(capsys, "list", "--json", "--store", url)
    assert code == 0 and [row["scope"] for row in json.loads(out)] == ["global"]


@pytest.fixture
def redis_prefix(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    redis = pytest.importorskip("redis")
    url = os.environ.get("MODELROUTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {url} is required in CI: {exc}")
        pytest.skip(f"Redis not reachable at {url} ({exc})")
    prefix = f"mrtest:cli:{uuid.uuid4().hex}:"
    monkeypatch.setenv("MODELROUTER_BUDGET_KEY_PREFIX", prefix)
    monkeypatch.setenv("MODELROUTER_REDIS_URL", url)
    yield prefix
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_redis_store_from_env(capsys: pytest.CaptureFixture[str], redis_prefix: str) -> None:
    assert run(capsys, "set", "key:k1", "--limit", "4")[0] == 0
    store = open_budget_store(None)
    assert [b.scope for b in store.budgets()] == ["key:k1"]
    store.close()
    code, out, _ = run(capsys, "show", "key:k1", "--json")
    assert code == 0 and json.loads(out)["limit_usd"] == "4"
