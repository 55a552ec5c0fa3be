"""modelrouter.toml: strict parsing, resolution against the catalog, env overrides, defaults."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from modelrouter.config import TIERS, RateLimits, load_config, normalize_tier
from modelrouter.config import defaults as d
from modelrouter.errors import ConfigError

FULL = """
[router]
default_tier = "balanced"
max_tier = "expert"
prefer_free = false
max_fallback_attempts = 3
max_cost_per_request_usd = "0.50"
monthly_budget_usd = 100.5
provider = "openai"

[providers.openai]
api_key = "env::OPENAI_API_KEY"
base_url = "https://api.openai.com/v1"
adapter = "openai_compat"
headers = { "x-extra" = "1" }
enabled = true

[providers.myllm]
adapter = "openai_compat"
base_url = "http://127.0.0.1:9000/v1"
api_key = "sk-literal-secret-1234"

[tiers.budget]
models = ["groq:llama-3.1-8b-instant", "google:gemini-2.5-flash-lite"]
max_tokens = 300
temperature = 0.1
connect_timeout_ms = 2000
first_token_timeout_ms = 4000
timeout_ms = 6000

[tasks.classification]
tier = "premium"
require = ["quality", "json_mode"]

[tasks.translation]
tier = "simple"

[fallbacks]
"openai:gpt-5" = ["anthropic:claude-sonnet-4-5", "google:gemini-2.5-pro"]

[limits.free]
rpm = 10
tpm = 40000
[limits.models."groq:llama-3.1-8b-instant"]
rpm = 30
tpm = 6000
[limits.models."openrouter:openai/gpt-oss-20b:free"]
rpm = 5

[breaker]
failure_threshold = 3
window_ms = 10000
cooldown_ms = 2000

[retry]
max_retries = 1
base_delay_ms = 100
max_delay_ms = 1000

[[validators]]
name = "json"
kind = "json"
tiers = ["fast"]

[[validators]]
name = "shape"
kind = "json_schema"
schema = { type = "object" }

[[validators]]
name = "starts-ok"
kind = "regex"
pattern = "^ok"
tiers = ["premium"]

[[validators]]
name = "len"
kind = "length"
min_chars = 1
max_chars = 2000

[cache]
enabled = true
ttl_s = 60

[budget]
default_usd = "25"
alert_threshold = 0.9

[registry]
url = "https://registry.example.com"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "modelrouter.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _no_stray_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)


# --------------------------------------------------------------------------- valid files


def test_full_file_parses(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL), environ={})
    fast = config.tier("fast")
    assert fast.models == ("groq:llama-3.1-8b-instant", "google:gemini-2.5-flash-lite")
    assert (fast.max_tokens, fast.temperature) == (300, 0.1)
    assert (fast.timeouts.connect_s, fast.timeouts.first_token_s, fast.timeouts.total_s) == (
        2.0,
        4.0,
        6.0,
    )
    assert config.router.max_cost_per_request_usd == Decimal("0.50")
    assert config.router.monthly_budget_usd == Decimal("100.5")  # float via str, exact
    assert config.router.prefer_free is False
    assert config.router.provider == "openai"
    assert config.task("classification").tier == "advanced"
    assert config.task("classification").require == ("quality", "json_mode")
    assert config.task("translation").tier == "fast"
    assert config.fallbacks["openai:gpt-5"] == (
        "anthropic:claude-sonnet-4-5",
        "google:gemini-2.5-pro",
    )
    assert config.limits_for("groq:llama-3.1-8b-instant", free=False) == RateLimits(30, 6000)
    assert config.limits_for("openrouter:openai/gpt-oss-20b:free", True) == RateLimits(5, 40000)
    assert config.limits_for("openrouter:qwen/qwen3-coder:free", True) == RateLimits(10, 40000)
    assert config.limits_for("openai:gpt-5", False) is None
    assert (config.breaker.failure_threshold, config.breaker.window_s) == (3, 10.0)
    assert (config.retry.max_retries, config.retry.base_delay_s, config.retry.max_delay_s) == (
        1,
        0.1,
        1.0,
    )
    assert [v.name for v in config.validators_for("fast")] == ["json", "shape", "len"]
    assert [v.name for v in config.validators_for("advanced")] == ["shape", "starts-ok", "len"]
    assert config.providers["openai"].headers == {"x-extra": "1"}
    custom = config.providers["myllm"]
    assert custom.needs_key and custom.resolve_api_key({}) == "sk-literal-secret-1234"
    assert config.cache.enabled and config.cache.ttl_s == 60.0
    assert config.budget.default_usd == Decimal("25")
    assert config.budget.alert_threshold == Decimal("0.9")
    assert config.registry_url == "https://registry.example.com"
    assert config.sources["tiers.fast.max_tokens"] == "file"
    assert config.sources["tiers.balanced.max_tokens"] == "default"
    assert config.sources["router.provider"] == "file"


def test_model_aliases_are_normalised_to_canonical_ids(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, '[tiers.fast]\nmodels = ["gpt-5-nano", "OPENAI:GPT-4O-MINI"]\n'),
        environ={},
    )
    assert config.tier("fast").models == ("openai:gpt-5-nano", "openai:gpt-4o-mini")


def test_result_is_frozen(tmp_path: Path) -> None:
    config = load_config(None, environ={})
    with pytest.raises(AttributeError):
        config.router = config.router  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.tiers["fast"] = config.tiers["fast"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("alias", "tier"),
    [
        ("fast", "fast"),
        ("balanced", "balanced"),
        ("advanced", "advanced"),
        ("expert", "expert"),
        ("budget", "fast"),
        ("fallback", "balanced"),
        ("premium", "advanced"),
        ("simple", "fast"),
        ("medium", "balanced"),
        ("complex", "advanced"),
        (" Premium ", "advanced"),
    ],
)
def test_seed_aliases(alias: str, tier: str) -> None:
    assert normalize_tier(alias) == tier
    assert load_config(None, environ={}).tier(alias).name == tier


def test_unknown_tier_name_suggests() -> None:
    with pytest.raises(ConfigError, match=r"unknown tier 'fats'; did you mean 'fast'\?"):
        normalize_tier("fats")


# --------------------------------------------------------------------------- errors

ERRORS = [
    pytest.param(
        "[router]\ndefualt_tier = 'fast'\n",
        "router.defualt_tier: unknown field",
        "did you mean 'default_tier'?",
        id="unknown-key-depth-1",
    ),
    pytest.param(
        "[tiers.fast]\nmax_tokenz = 3\n",
        "tiers.fast.max_tokenz: unknown field",
        "did you mean 'max_tokens'?",
        id="unknown-key-depth-2",
    ),
    pytest.param(
        "[limits.models.'groq:llama-3.1-8b-instant']\nrpn = 3\n",
        'limits.models."groq:llama-3.1-8b-instant".rpn: unknown field',
        "did you mean 'rpm'?",
        id="unknown-key-depth-3",
    ),
    pytest.param(
        "[[validators]]\nname='a'\nkind='json'\nshema={}\n",
        "validators[0].shema: unknown field",
        "did you mean 'schema'?",
        id="unknown-key-in-array",
    ),
    pytest.param(
        "[routr]\n", "routr: unknown field", "did you mean 'router'?", id="unknown-top-level"
    ),
    pytest.param(
        "[tiers.fast]\nmax_tokens = 0\n",
        "tiers.fast.max_tokens:",
        "greater than 0",
        id="not-positive",
    ),
    pytest.param(
        "[tiers.fast]\nmax_tokens = '256'\n",
        "tiers.fast.max_tokens:",
        "valid integer",
        id="wrong-type-string",
    ),
    pytest.param(
        "[router]\nprefer_free = 'yes'\n",
        "router.prefer_free:",
        "valid boolean",
        id="wrong-type-bool",
    ),
    pytest.param(
        "[router]\nmax_cost_per_request_usd = 'lots'\n",
        "router.max_cost_per_request_usd:",
        "expected an amount",
        id="bad-money",
    ),
    pytest.param(
        "[tiers.fats]\n",
        "tiers.fats: unknown tier 'fats'",
        "did you mean 'fast'?",
        id="unknown-tier-section",
    ),
    pytest.param(
        "[router]\ndefault_tier = 'expret'\n",
        "router.default_tier: unknown tier",
        "did you mean 'expert'?",
        id="unknown-tier-value",
    ),
    pytest.param(
        "[tiers.fast]\nmodels = ['groq:llama-3.1-8b-instant', 'google:gemini-2.5-pro', "
        "'openai:gpt-9']\n",
        "tiers.fast.models[2]: unknown model 'openai:gpt-9'",
        "did you mean 'openai:gpt-5'",
        id="unknown-model",
    ),
    pytest.param(
        "[fallbacks]\n'openai:gpt-5' = ['anthropic:claude-sonet-4-5']\n",
        'fallbacks."openai:gpt-5"[0]: unknown model',
        "did you mean",
        id="fallback-model",
    ),
    pytest.param(
        "[limits.models.'openai:gpt-9']\nrpm = 1\n",
        'limits.models."openai:gpt-9": unknown model',
        "did you mean",
        id="limit-model",
    ),
    pytest.param(
        "[providers.openai]\napi_key = 'env::openai key'\n",
        "providers.openai.api_key:",
        "not a valid environment reference",
        id="bad-env-ref",
    ),
    pytest.param(
        "[providers.openai]\napi_key = 'env:OPENAI_API_KEY'\n",
        "providers.openai.api_key:",
        "env::",
        id="single-colon-env-ref",
    ),
    pytest.param(
        "[providers.mine]\nbase_url = 'http://x'\n",
        "providers.mine.adapter:",
        "required for a provider that is not built in",
        id="custom-provider-adapter",
    ),
    pytest.param(
        "[providers.openai]\nadapter = 'soap'\n",
        "providers.openai.adapter:",
        "openai_compat",
        id="bad-adapter",
    ),
    pytest.param(
        "[providers.openai]\nbase_url = 'api.openai.com'\n",
        "providers.openai.base_url:",
        "http",
        id="bad-url",
    ),
    pytest.param(
        "[[validators]]\nname='r'\nkind='regex'\npattern='(unclosed'\n",
        "validators[0].pattern: invalid regular expression",
        "",
        id="bad-regex",
    ),
    pytest.param(
        "[[validators]]\nname='s'\nkind='json_schema'\n",
        "validators[0].schema: required for kind 'json_schema'",
        "",
        id="schema-missing",
    ),
    pytest.param(
        "[[validators]]\nname='s'\nkind='json'\npattern='x'\n",
        "validators[0].pattern: not used by kind 'json'",
        "",
        id="field-not-for-kind",
    ),
    pytest.param(
        "[[validators]]\nname='s'\nkind='length'\nmin_chars=5\nmax_chars=2\n",
        "validators[0].max_chars:",
        "min_chars",
        id="length-inverted",
    ),
    pytest.param(
        "[[validators]]\nname='a'\nkind='json'\n[[validators]]\nname='a'\nkind='json'\n",
        "validators[1].name:",
        "used twice",
        id="validator-dup",
    ),
    pytest.param(
        "[tasks.x]\nrequire = ['qualty']\n",
        "tasks.x.require[0]: unknown requirement",
        "did you mean 'quality'?",
        id="bad-requirement",
    ),
    pytest.param("[tasks.x]\ntier = 'hard'\n", "tasks.x.tier: unknown tier", "", id="task-tier"),
    pytest.param(
        "[tiers.fast]\nconnect_timeout_ms = 9000\ntimeout_ms = 5000\n",
        "tiers.fast.connect_timeout_ms:",
        "longer than the total timeout",
        id="connect-over-total",
    ),
    pytest.param(
        "[tiers.fast]\nmodels = ['openai:gpt-5', 'gpt-5']\n",
        "tiers.fast.models[1]:",
        "listed twice",
        id="duplicate-model",
    ),
    pytest.param(
        "[tiers.fast]\n[tiers.budget]\n", "tiers.budget:", "configured twice", id="alias-and-tier"
    ),
    pytest.param(
        "[router]\ndefault_tier = 'expert'\nmax_tier = 'fast'\n",
        "router.default_tier:",
        "above max_tier",
        id="default-above-max",
    ),
    pytest.param(
        "[router]\nprovider = 'opneai'\n",
        "router.provider: unknown provider",
        "did you mean 'openai'?",
        id="unknown-provider",
    ),
    pytest.param(
        "[retry]\nbase_delay_ms = 9000\nmax_delay_ms = 100\n",
        "retry.base_delay_ms:",
        "exceeds max delay",
        id="retry-inverted",
    ),
    pytest.param(
        "[tiers.fast]\nmodels = []\n", "tiers.fast.models:", "at least 1", id="empty-models"
    ),
]


@pytest.mark.parametrize(("text", "key_and_message", "suggestion"), ERRORS)
def test_errors_name_file_key_and_fix(
    tmp_path: Path, text: str, key_and_message: str, suggestion: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = str(info.value)
    assert message.startswith(f"{path}: {key_and_message}"), message
    assert suggestion in message
    assert "\n" not in message


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[router]\nprefer_free = true\nmax_tier = = 'x'\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert str(info.value).startswith(f"{path}: invalid TOML:")
    assert "line 3" in str(info.value)


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.toml", environ={})
    with pytest.raises(ConfigError, match="MODELROUTER_CONFIG: no such config file"):
        load_config(None, environ={"MODELROUTER_CONFIG": str(tmp_path / "nope.toml")})


# --------------------------------------------------------------------------- finding the file


def test_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "modelrouter.toml").write_text("[router]\nmax_fallback_attempts = 1\n")
    env = {"MODELROUTER_HOME": str(home)}
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert load_config(None, environ=env).router.max_fallback_attempts == 1  # user config dir
    (work / "modelrouter.toml").write_text("[router]\nmax_fallback_attempts = 2\n")
    assert load_config(None, environ=env).router.max_fallback_attempts == 2  # ./modelrouter.toml
    named = tmp_path / "named.toml"
    named.write_text("[router]\nmax_fallback_attempts = 3\n")
    env["MODELROUTER_CONFIG"] = str(named)
    assert load_config(None, environ=env).router.max_fallback_attempts == 3  # env var
    explicit = tmp_path / "explicit.toml"
    explicit.write_text("[router]\nmax_fallback_attempts = 4\n")
    config = load_config(explicit, environ=env)
    assert config.router.max_fallback_attempts == 4  # argument wins
    assert config.file == str(explicit)


# --------------------------------------------------------------------------- defaults


def test_no_config_matches_documented_defaults() -> None:
    config = load_config(None, environ={})
    assert config.file is None
    assert tuple(config.tiers) == TIERS
    expected = {
        "fast": (256, 0.3, 5.0, 5.0),
        "balanced": (1024, 0.7, 30.0, 5.0),
        "advanced": (2048, 0.8, 60.0, 5.0),
        "expert": (4096, 0.7, 120.0, 5.0),
    }
    for name, (max_tokens, temperature, total, connect) in expected.items():
        tier = config.tier(name)
        assert (tier.max_tokens, tier.temperature) == (max_tokens, temperature)
        assert tier.timeouts.total_s == total == tier.timeouts.first_token_s
        assert tier.timeouts.connect_s == connect
        assert tier.models == d.DEFAULT_TIER_MODELS[name]
    assert config.task("classification").tier == "advanced"
    assert config.task("diarization").require == ("quality",)
    assert config.task("summarization").tier == "fast"
    assert config.task("entity_extraction").require == ("fast",)
    assert config.task("poetry").tier == "balanced"
    r = config.router
    assert (r.default_tier, r.max_tier, r.prefer_free, r.max_fallback_attempts) == (
        "balanced",
        "expert",
        True,
        2,
    )
    assert r.max_cost_per_request_usd is None and r.provider is None
    assert config.budget.alert_threshold == Decimal("0.8")
    assert set(config.sources.values()) == {"default"}
    assert config.next_tier("fast") == "balanced" and config.next_tier("expert") is None


def test_every_default_model_resolves_in_the_bundled_catalog() -> None:
    from modelrouter.catalog import get_catalog

    catalog = get_catalog()
    for tier, models in d.DEFAULT_TIER_MODELS.items():
        for model in models:
            spec = catalog.find(model)
            assert spec is not None and spec.model_id == model, (tier, model)
            assert spec.provider in d.BUILTIN_PROVIDERS


def test_builtin_providers() -> None:
    providers = load_config(None, environ={}).providers
    assert set(providers) == set(d.BUILTIN_PROVIDERS)
    openai = providers["openai"]
    assert (openai.adapter, openai.base_url, openai.key_env) == (
        "openai_compat",
        "https://api.openai.com/v1",
        "OPENAI_API_KEY",
    )
    assert openai.needs_key
    assert openai.resolve_api_key({}) is None
    assert openai.resolve_api_key({"OPENAI_API_KEY": ""}) is None
    assert openai.resolve_api_key({"OPENAI_API_KEY": "sk-x"}) == "sk-x"
    assert providers["google"].adapter == "gemini"
    assert providers["google"].key_env == "GEMINI_API_KEY"
    assert providers["anthropic"].adapter == "anthropic"
    for local in ("ollama", "vllm"):
        assert not providers[local].needs_key
        assert providers[local].resolve_api_key({}) is None


def test_importing_config_loads_no_catalog() -> None:
    code = "import sys, modelrouter.config; print('modelrouter.catalog.loader' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- environment


ENV_CASES = [
    (
        "MODEL_BUDGET",
        "openai:gpt-4o-mini",
        "tiers.fast.models",
        lambda c: c.tier("fast").models[0] == "openai:gpt-4o-mini",
    ),
    (
        "MODEL_FALLBACK",
        "anthropic:claude-haiku-4-5",
        "tiers.balanced.models",
        lambda c: c.tier("balanced").models[0] == "anthropic:claude-haiku-4-5",
    ),
    (
        "MODEL_PREMIUM",
        "anthropic:claude-sonnet-4-5",
        "tiers.advanced.models",
        lambda c: c.tier("advanced").models[0] == "anthropic:claude-sonnet-4-5",
    ),
    (
        "AI_MODEL_EXPERT",
        "openai:o3",
        "tiers.expert.models",
        lambda c: (
            c.tier("expert").models
            == (
                "openai:o3",
                "anthropic:claude-opus-4-5",
                "openai:gpt-5.4",
                "google:gemini-3-pro-preview",
            )
        ),
    ),
    (
        "AI_MODEL_FAST",
        "gpt-5-nano",
        "tiers.fast.models",
        lambda c: c.tier("fast").models[0] == "openai:gpt-5-nano",
    ),
    (
        "MODEL_FREE_PREMIUM_1",
        "openrouter:openai/gpt-oss-20b:free",
        "tiers.advanced.models",
        lambda c: c.tier("advanced").models[0] == "openrouter:openai/gpt-oss-20b:free",
    ),
    ("AI_PROVIDER", "Anthropic", "router.provider", lambda c: c.router.provider == "anthropic"),
    (
        "AI_DEFAULT_TIER",
        "premium",
        "router.default_tier",
        lambda c: c.router.default_tier == "advanced",
    ),
    ("AI_MAX_TIER", "advanced", "router.max_tier", lambda c: c.router.max_tier == "advanced"),
    (
        "AI_MAX_COST_PER_REQUEST",
        "0.25",
        "router.max_cost_per_request_usd",
        lambda c: c.router.max_cost_per_request_usd == Decimal("0.25"),
    ),
    (
        "AI_MONTHLY_BUDGET",
        "$250",
        "router.monthly_budget_usd",
        lambda c: c.router.monthly_budget_usd == Decimal("250"),
    ),
    ("AI_CACHE_ENABLED", "yes", "cache.enabled", lambda c: c.cache.enabled is True),
    ("AI_CACHE_TTL", "90", "cache.ttl_s", lambda c: c.cache.ttl_s == 90.0),
    (
        "AI_TIMEOUT_FAST",
        "2.5",
        "tiers.fast.timeout_ms",
        lambda c: c.tier("fast").timeouts == type(c.tier("fast").timeouts)(2.5, 2.5, 2.5),
    ),
    (
        "AI_TIMEOUT_EXPERT",
        "300",
        "tiers.expert.timeout_ms",
        lambda c: c.tier("expert").timeouts.total_s == 300.0,
    ),
    ("DEFAULT_BUDGET", "10", "budget.default_usd", lambda c: c.budget.default_usd == Decimal("10")),
    (
        "COST_ALERT_THRESHOLD",
        "0.5",
        "budget.alert_threshold",
        lambda c: c.budget.alert_threshold == Decimal("0.5"),
    ),
    (
        "MAX_FALLBACK_ATTEMPTS",
        "4",
        "router.max_fallback_attempts",
        lambda c: c.router.max_fallback_attempts == 4,
    ),
    (
        "MODEL_REGISTRY_URL",
        "https://models.example.com/api",
        "registry.url",
        lambda c: c.registry_url == "https://models.example.com/api",
    ),
]


@pytest.mark.parametrize(("var", "value", "key", "check"), ENV_CASES, ids=[c[0] for c in ENV_CASES])
def test_env_override_applies_and_records_source(
    tmp_path: Path, var: str, value: str, key: str, check: object
) -> None:
    config = load_config(write(tmp_path, "[router]\nprovider = 'openai'\n"), environ={var: value})
    assert check(config)  # type: ignore[operator]
    assert config.sources[key] == f"env:{var}"


def test_env_beats_file_and_empty_env_is_unset(tmp_path: Path) -> None:
    path = write(tmp_path, "[router]\nmax_fallback_attempts = 1\n")
    assert (
        load_config(path, environ={"MAX_FALLBACK_ATTEMPTS": "3"}).router.max_fallback_attempts == 3
    )
    config = load_config(path, environ={"MAX_FALLBACK_ATTEMPTS": "  "})
    assert config.router.max_fallback_attempts == 1
    assert config.sources["router.max_fallback_attempts"] == "file"


def test_env_tier_models_order() -> None:
    env = {
        "MODEL_BUDGET": "openai:gpt-4o-mini",
        "AI_MODEL_FAST": "groq:llama-3.1-8b-instant",
        "MODEL_FREE_BUDGET_1": "openrouter:qwen/qwen3-coder:free",
        "MODEL_FREE_BUDGET_2": "openrouter:openai/gpt-oss-20b:free",
    }
    config = load_config(None, environ=env)
    models = config.tier("fast").models
    assert models[:4] == (
        "openrouter:qwen/qwen3-coder:free",
        "openrouter:openai/gpt-oss-20b:free",
        "groq:llama-3.1-8b-instant",
        "openai:gpt-4o-mini",
    )
    assert len(models) == len(set(models))
    assert config.sources["tiers.fast.models"] == (
        "env:MODEL_FREE_BUDGET_1,MODEL_FREE_BUDGET_2,AI_MODEL_FAST,MODEL_BUDGET"
    )


def test_env_timeout_caps_configured_connect(tmp_path: Path) -> None:
    path = write(tmp_path, "[tiers.fast]\nconnect_timeout_ms = 3000\n")
    timeouts = load_config(path, environ={"AI_TIMEOUT_FAST": "2"}).tier("fast").timeouts
    assert (timeouts.connect_s, timeouts.first_token_s, timeouts.total_s) == (2.0, 2.0, 2.0)


BAD_ENV = [
    ("MAX_FALLBACK_ATTEMPTS", "two", "MAX_FALLBACK_ATTEMPTS: expected a whole number, got 'two'"),
    ("MAX_FALLBACK_ATTEMPTS", "-1", "MAX_FALLBACK_ATTEMPTS: expected a whole number"),
    ("AI_MAX_COST_PER_REQUEST", "cheap", "AI_MAX_COST_PER_REQUEST: expected an amount in USD"),
    ("AI_MONTHLY_BUDGET", "-5", "AI_MONTHLY_BUDGET: expected an amount in USD"),
    ("DEFAULT_BUDGET", "NaN", "DEFAULT_BUDGET: expected an amount in USD"),
    ("COST_ALERT_THRESHOLD", "80", "COST_ALERT_THRESHOLD: expected a fraction between 0 and 1"),
    ("AI_CACHE_ENABLED", "maybe", "AI_CACHE_ENABLED: expected true/false"),
    ("AI_CACHE_TTL", "-3", "AI_CACHE_TTL: expected a number of seconds"),
    ("AI_TIMEOUT_FAST", "0", "AI_TIMEOUT_FAST: expected a number of seconds greater than 0"),
    ("AI_TIMEOUT_BALANCED", "soon", "AI_TIMEOUT_BALANCED: expected a number of seconds"),
    ("AI_DEFAULT_TIER", "hard", "AI_DEFAULT_TIER: expected a tier"),
    ("AI_MAX_TIER", "ultra", "AI_MAX_TIER: expected a tier"),
    ("AI_PROVIDER", "opneai", "AI_PROVIDER: unknown provider 'opneai'; did you mean 'openai'?"),
    ("MODEL_REGISTRY_URL", "models.example.com", "MODEL_REGISTRY_URL: expected an http"),
    ("MODEL_PREMIUM", "openai:gpt-9", "MODEL_PREMIUM: unknown model 'openai:gpt-9'; did you mean"),
    ("AI_MODEL_EXPERT", "nope-model", "AI_MODEL_EXPERT: unknown model 'nope-model'"),
    (
        "MODEL_FREE_FALLBACK_2",
        "openai:gpt-5",
        "MODEL_FREE_FALLBACK_2: 'openai:gpt-5' is not a free",
    ),
]


@pytest.mark.parametrize(
    ("var", "value", "expected"), BAD_ENV, ids=[f"{v}={x}" for v, x, _ in BAD_ENV]
)
def test_bad_env_values_name_the_variable(var: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, environ={var: value})
    assert str(info.value).startswith(expected), str(info.value)


def test_env_default_tier_above_file_max_tier_blames_the_variable(tmp_path: Path) -> None:
    path = write(tmp_path, "[router]\nmax_tier = 'balanced'\n")
    with pytest.raises(ConfigError, match=r"^AI_DEFAULT_TIER: default tier 'expert' is above"):
        load_config(path, environ={"AI_DEFAULT_TIER": "expert"})
