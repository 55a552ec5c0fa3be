"""`modelrouter keys create|list|revoke|rotate`, as an operator runs them."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from modelrouter.cli._common import run_app
from modelrouter.cli.keys import WARNING, app
from modelrouter.gateway.keys import AuditLog, KeyStore
from modelrouter.usage.budgets import open_budget_store


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run_app(app, list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("MODELROUTER_SECRET", "MODELROUTER_BUDGET_KEY_PREFIX"):
        monkeypatch.delenv(var, raising=False)


def home() -> Path:
    return Path(os.environ["MODELROUTER_HOME"])


def test_create_prints_the_key_once_and_stores_only_its_hash(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "create", "--name", "alice", "--budget", "25", "--rpm", "60",
                         "--tpm", "10000", "--models", "openai:gpt-5, tier:fast",
                         "--expires", "2099-12-31")
    assert code == 0 and WARNING in err
    lines = dict(line.split(":", 1) for line in out.splitlines())
    key_id, plain = lines["key id"].strip(), lines["key"].strip()
    assert plain.startswith("mr-")
    blob = b"".join(p.read_bytes() for p in home().iterdir() if p.is_file())
    assert plain[8:].encode() not in blob
    with KeyStore() as store:
        found = store.authenticate(plain)
    assert found is not None and found.id == key_id
    assert found.models == ("openai:gpt-5", "tier:fast") and found.rpm == 60
    assert found.expires_at is not None and found.expires_at.year == 2099
    budgets = open_budget_store()
    status = budgets.status(f"key:{key_id}")
    budgets.close()
    assert status is not None and status.limit == Decimal(25) and status.period == "month"

    code, out, _ = run(capsys, "list", "--json")
    listed = json.loads(out)
    assert code == 0 and [k["id"] for k in listed] == [key_id]
    assert plain not in out and plain[8:] not in out and listed[0]["prefix"] == plain[:8]
    code, out, _ = run(capsys, "list")
    assert code == 0 and key_id in out and "active" in out and plain[8:] not in out


def test_rotate_and_revoke(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "create", "--json")
    created = json.loads(out)
    code, out, err = run(capsys, "rotate", created["id"], "--json")
    rotated = json.loads(out)
    assert code == 0 and rotated["key"] != created["key"]
    with KeyStore() as store:
        assert store.authenticate(created["key"]) is None
        assert store.authenticate(rotated["key"]) is not None
    assert run(capsys, "revoke", created["id"])[:2] == (0, f"revoked {created['id']}\n")
    code, _, err = run(capsys, "revoke", created["id"])
    assert code == 1 and "no active key" in err
    code, _, err = run(capsys, "rotate", created["id"])
    assert code == 1 and "no active key" in err
    _, out, _ = run(capsys, "list")
    assert "revoked" in out
    events = [e["event"] for e in AuditLog(home() / "audit.jsonl").events()]
    assert events == ["key.create", "key.rotate", "auth.failure", "key.revoke"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--budget", "lots"], "--budget 'lots'"),
    (["--period", "week"], "--period 'week'"),
    (["--rpm", "0"], "--rpm must be a positive integer"),
    (["--expires", "2001-01-01"], "is in the past"),
    (["--expires", "soon"], "use a date"),
])
def test_create_rejects_bad_options(capsys: pytest.CaptureFixture[str], argv: list[str],
                                    message: str) -> None:
    code, out, err = run(capsys, "create", *argv)
    assert code == 2 and message in err and out == ""
    assert not (home() / "gateway.db").exists() or KeyStore().list() == []


def test_every_command_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("create", "list", "revoke", "rotate"):
        code, out, _ = run(capsys, command, "--help")
        assert code == 0 and "Example: modelrouter keys " + command in out
