"""CLI: select, chat and demo, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelrouter.cli import main
from modelrouter.testing import FakeProvider, Fault


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GROQ_API_KEY",
                "COHERE_API_KEY", "OPENROUTER_API_KEY", "DEEPSEEK_API_KEY", "MISTRAL_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("MODELROUTER_CONFIG", raising=False)
    monkeypatch.chdir(Path(__file__).parent)


def test_select_task_explain_without_keys(capsys: pytest.CaptureFixture[str], no_keys: None
                                          ) -> None:
    code, out, err = run(capsys, "select", "--task", "classification", "--explain")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "openrouter:qwen/qwen3-coder:free"
    assert "requirements: quality" in out and "fallback 1:" in out
    assert "no provider has an API key" in err


def test_select_with_one_key_skips_the_others(
    capsys: pytest.CaptureFixture[str], no_keys: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    code, out, _ = run(capsys, "select", "--tier", "budget", "--json")
    body = json.loads(out)
    assert code == 0 and body["chosen"]["model"].startswith("openai:")
    reasons = {r["model"]: r["reason"] for r in body["rejected"]}
    assert reasons["groq:llama-3.1-8b-instant"] == "no API key: set GROQ_API_KEY"


@pytest.mark.parametrize(
    ("argv", "needle", "code"),
    [
        (["select", "--tier", "fast", "--require", "quality"], "no candidate is left", 1),
        (["select", "--tier", "fats"], "did you mean 'fast'", 1),
        (["select", "--tier", "fast", "--task", "x"], "at most one of", 2),
        (["select", "--tier", "fast", "--max-cost", "cheap"], "not an amount", 2),
        (["select", "--model", "gpt-9"], "unknown model 'gpt-9'", 1),
        (["chat", "hello"], "no API key: set", 1),
    ],
)
def test_routing_errors(capsys: pytest.CaptureFixture[str], no_keys: None, argv: list[str],
                        needle: str, code: int) -> None:
    got, out, err = run(capsys, *argv)
    assert got == code
    assert needle in out + err
    assert "Traceback" not in out + err


def test_chat_against_a_fake_provider(
    capsys: pytest.CaptureFixture[str], no_keys: None, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    with FakeProvider() as fake:
        config = tmp_path / "modelrouter.toml"
        config.write_text(
            f'[providers.openai]\nbase_url = "{fake.base_url}/v1"\n'
            '[tiers.fast]\nmodels = ["openai:gpt-5-nano", "openai:gpt-4o-mini"]\n',
            encoding="utf-8")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        fake.script("gpt-5-nano", [Fault.server_error(503)] * 3)
        code, out, err = run(capsys, "chat", "Hello there", "--tier", "fast",
                             "--config", str(config), "--json")
        assert code == 0, err
        body = json.loads(out)
        assert body["model"] == "openai:gpt-4o-mini" and body["fallback_depth"] == 1
        assert body["text"].startswith("[gpt-4o-mini] Hello there")
        assert body["usage"]["output_tokens"] > 0 and body["cost_usd"] is not None
        code, out, err = run(capsys, "chat", "Stream me", "--tier", "fast", "--stream",
                             "--config", str(config))
        assert code == 0
        assert out.startswith("[gpt-5-nano] Stream me")
        assert "openai:gpt-5-nano ·" in err and "0 fallbacks" in err


def test_demo_runs_offline(capsys: pytest.CaptureFixture[str], no_keys: None) -> None:
    code, out, _ = run(capsys, "demo", "--json")
    assert code == 0
    body = json.loads(out)
    titles = " ".join(s["title"] for s in body["scenarios"])
    for word in ("Free-first", "429", "breaker", "validator", "Cost cap"):
        assert word in titles
    outcomes = [a["outcome"] for a in body["attempts"]]
    assert "validation_failed" in outcomes and outcomes.count("error") >= 3
    assert "half-open probe succeeded" in body["scenarios"][2]["outcome"]
    assert "breaker closed" in body["scenarios"][2]["outcome"]
    assert "skipped: anthropic:claude-sonnet-4-5" in body["scenarios"][4]["outcome"]
    total = body["summary"][-1]
    assert total["is_total"] and total["requests"] == 7
    assert total["cost_usd"] == body["total_cost_usd"]
    assert float(total["savings_usd"]) > 0  # free answers saved the cheapest paid price
