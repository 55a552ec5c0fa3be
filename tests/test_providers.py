"""Provider registry: built-ins, register(), suggestions, plugins from entry points."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from modelrouter.errors import ConfigError, ProviderNotFoundError
from modelrouter.providers.registry import ProviderRegistry, ProviderSpec

BUILTINS = {"openai", "anthropic", "google", "groq", "cohere", "openrouter", "deepseek",
            "mistral", "ollama", "vllm"}


def test_builtins_are_config_on_four_adapters() -> None:
    registry = ProviderRegistry(use_entry_points=False)
    assert set(registry.list_providers()) == BUILTINS
    assert registry.get("deepseek").adapter == "openai_compat"
    assert registry.get("gemini").name == "google"  # alias
    assert registry.get("ollama").key_env is None
    assert registry.get("groq").key_env == "GROQ_API_KEY"


def test_unknown_provider_suggests() -> None:
    registry = ProviderRegistry(use_entry_points=False)
    with pytest.raises(ProviderNotFoundError, match="did you mean 'openai'") as info:
        registry.get("opnai")
    assert info.value.suggestions == ("openai",)


def test_register_with_aliases_and_no_silent_replace() -> None:
    registry = ProviderRegistry(use_entry_points=False)
    spec = ProviderSpec("together", "openai_compat", "https://api.together.xyz/v1",
                        "TOGETHER_API_KEY")
    registry.register(spec, aliases=["tgi"])
    assert registry.get("tgi") is spec
    with pytest.raises(ConfigError, match="already registered"):
        registry.register(spec)
    with pytest.raises(ConfigError, match="unknown adapter"):
        registry.register(ProviderSpec("x", "soap", "http://x"), replace=True)


def test_plugin_provider_loaded_lazily_from_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real installed-distribution layout on sys.path, found by importlib.metadata."""
    (tmp_path / "acme_provider.py").write_text(
        "from modelrouter.providers.registry import ProviderSpec\n"
        "LOADED = []\n"
        "def make():\n"
        "    LOADED.append(1)\n"
        "    return ProviderSpec('acme', 'openai_compat', 'http://127.0.0.1:9/v1', 'ACME_KEY')\n",
        encoding="utf-8",
    )
    dist = tmp_path / "acme_provider-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-provider\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[modelrouter.providers]\nacme = acme_provider:make\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = ProviderRegistry()
    assert "acme" in registry.list_providers()
    assert "acme_provider" not in sys.modules  # listed without being imported
    spec = registry.get("acme")
    assert spec.base_url == "http://127.0.0.1:9/v1"
    assert sys.modules["acme_provider"].LOADED == [1]
    registry.get("acme")
    assert sys.modules["acme_provider"].LOADED == [1]  # loaded once
