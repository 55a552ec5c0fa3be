"""`modelrouter config check` and `modelrouter config show`, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelrouter.cli._common import run_app
from modelrouter.cli.config import app, mask_secret

SECRET = "sk-proj-verysecretvalue-abcd"

GOOD = f"""
[router]
default_tier = "fast"

[providers.openai]
api_key = "env::OPENAI_API_KEY"

[providers.mistral]
api_key = "{SECRET}"

[tiers.fast]
models = ["groq:llama-3.1-8b-instant", "openai:gpt-4o-mini"]
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run_app(app, list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for var in (
        "MODELROUTER_CONFIG",
        "OPENAI_API_KEY",
        "AI_DEFAULT_TIER",
        "MAX_FALLBACK_ATTEMPTS",
        "GROQ_API_KEY",
        "ANTHROPIC_API_KEY",
        "GEMINI_API_KEY",
        "OPENROUTER_API_KEY",
    ):
        monkeypatch.delenv(var, raising=False)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "modelrouter.toml"
    path.write_text(text, encoding="utf-8")
    return path


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 1
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err


def test_check_ok(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real")
    path = write(tmp_path, GOOD)
    code, out, err = run(capsys, "check", str(path))
    assert code == 0 and err == ""
    # fast: 2 listed; balanced 6 + advanced 4 + expert 4 defaults (gpt-5 models distinct) = 16
    assert out == f"OK: {path}: 4 tiers, 16 models, 10 providers (2 with keys)\n"


def test_check_without_any_file_uses_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert out.startswith("OK: (no config file: built-in defaults): 4 tiers, 20 models,")
    assert "(0 with keys)" in out


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (
            "[router]\ndefualt_tier = 'fast'\n",
            ("router.defualt_tier: unknown field", "did you mean 'default_tier'?"),
        ),
        (
            "[tiers.fast]\nmodels = ['openai:gpt-9']\n",
            ("tiers.fast.models[0]: unknown model 'openai:gpt-9'", "did you mean 'openai:gpt-5'"),
        ),
        ("[router\n", ("invalid TOML", "line 1")),
    ],
)
def test_check_error_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, needles: tuple[str, ...]
) -> None:
    path = write(tmp_path, text)
    code, out, err = run(capsys, "check", str(path))
    assert out == ""
    assert_one_line_error(code, err, str(path), *needles)


def test_check_bad_env_names_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_FALLBACK_ATTEMPTS", "two")
    code, _, err = run(capsys, "check")
    assert_one_line_error(code, err, "MAX_FALLBACK_ATTEMPTS: expected a whole number, got 'two'")


def test_check_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "check", str(tmp_path / "absent.toml"))
    assert_one_line_error(code, err, "absent.toml", "no such config file")


def test_show_table_has_sources_and_masks_secrets(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_DEFAULT_TIER", "premium")
    path = write(tmp_path, GOOD)
    code, out, _ = run(capsys, "show", "--config", str(path))
    assert code == 0
    assert SECRET not in out
    assert "sk-…abcd" in out
    assert "env::OPENAI_API_KEY (not set)" in out
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") >= 3}
    assert "env:AI_DEFAULT_TIER" in lines["router.default_tier"]
    assert "advanced" in lines["router.default_tier"]
    assert "file" in lines["tiers.fast.models"]
    assert "default" in lines["tiers.balanced.max_tokens"]


def test_show_json_shape(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-set")
    path = write(tmp_path, GOOD)
    code, out, _ = run(capsys, "show", "--config", str(path), "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"file", "config", "sources"}
    assert data["file"] == str(path)
    config = data["config"]
    assert set(config) >= {
        "router",
        "providers",
        "tiers",
        "tasks",
        "fallbacks",
        "limits",
        "breaker",
        "retry",
        "validators",
        "cache",
        "budget",
        "registry",
    }
    assert config["providers"]["openai"]["api_key"] == "env::OPENAI_API_KEY (set)"
    assert config["providers"]["mistral"]["api_key"] == "sk-…abcd"
    assert config["providers"]["ollama"]["api_key"] is None
    assert config["tiers"]["fast"]["models"] == ["groq:llama-3.1-8b-instant", "openai:gpt-4o-mini"]
    assert config["tiers"]["fast"]["timeout_ms"] == 5000
    assert config["tiers"]["expert"]["max_tokens"] == 4096
    assert config["tasks"]["classification"] == {"tier": "advanced", "require": ["quality"]}
    assert data["sources"]["router.default_tier"] == "file"
    assert data["sources"]["tiers.fast.models"] == "file"
    assert data["sources"]["tiers.expert.models"] == "default"
    assert SECRET not in out


def test_show_error_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, "[tiers.fats]\n")
    code, out, err = run(capsys, "show", "--config", str(path), "--json")
    assert out == ""
    assert_one_line_error(
        code, err, f"{path}: tiers.fats: unknown tier 'fats'; did you mean 'fast'?"
    )


@pytest.mark.parametrize(
    ("secret", "shown"),
    [("sk-proj-abcdefghijklmnop", "sk-…mnop"), ("short", "****"), ("", "****")],
)
def test_mask_secret(secret: str, shown: str) -> None:
    assert mask_secret(secret) == shown


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("check", "show"):
        code, out, _ = run(capsys, command, "--help")
        assert code == 0
        assert "Example: modelrouter config" in out
