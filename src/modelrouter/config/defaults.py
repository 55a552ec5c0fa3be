"""Built-in defaults: what modelrouter does with no config file and no environment at all.

Everything here is plain data (no I/O) and works offline: every model id exists in the bundled
catalog (a test checks it) and no provider needs a key until it is actually called.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

CONFIG_FILENAME = "modelrouter.toml"
CONFIG_ENV = "MODELROUTER_CONFIG"

# The tier ladder, cheapest first.
TIERS: tuple[str, ...] = ("fast", "balanced", "advanced", "expert")

# Seed names (budget/fallback/premium) and complexity names (simple/medium/complex).
TIER_ALIASES: dict[str, str] = {
    "budget": "fast",
    "fallback": "balanced",
    "premium": "advanced",
    "simple": "fast",
    "medium": "balanced",
    "complex": "advanced",
}


def normalize_tier(name: str) -> str:
    """The canonical tier for a tier name or seed alias (``premium`` → ``advanced``).

    Raises ConfigError naming the closest tier when ``name`` is neither.
    """
    key = name.strip().lower()
    if key in TIERS:
        return key
    if key in TIER_ALIASES:
        return TIER_ALIASES[key]
    from modelrouter.errors import ConfigError

    raise ConfigError(
        f"unknown tier {name!r}{did_you_mean(key, (*TIERS, *TIER_ALIASES))}",
        hint="tiers are " + ", ".join(TIERS),
    )


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """``"; did you mean 'fast'?"`` or an empty string."""
    import difflib

    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


@dataclass(frozen=True, slots=True)
class TierDefaults:
    max_tokens: int
    temperature: float
    timeout_s: float


TIER_DEFAULTS: dict[str, TierDefaults] = {
    "fast": TierDefaults(max_tokens=256, temperature=0.3, timeout_s=5.0),
    "balanced": TierDefaults(max_tokens=1024, temperature=0.7, timeout_s=30.0),
    "advanced": TierDefaults(max_tokens=2048, temperature=0.8, timeout_s=60.0),
    "expert": TierDefaults(max_tokens=4096, temperature=0.7, timeout_s=120.0),
}

# Connect timeout unless configured; never more than the tier's total timeout.
DEFAULT_CONNECT_TIMEOUT_S = 5.0

# Ordered: free models first, then the cheapest paid ones; also each tier's fallback order.
DEFAULT_TIER_MODELS: dict[str, tuple[str, ...]] = {
    "fast": (
        "openrouter:meta-llama/llama-3.3-70b-instruct:free",
        "openrouter:openai/gpt-oss-20b:free",
        "groq:llama-3.1-8b-instant",
        "google:gemini-2.5-flash-lite",
        "openai:gpt-5-nano",
        "openai:gpt-4o-mini",
    ),
    "balanced": (
        "openrouter:openai/gpt-oss-120b:free",
        "openrouter:deepseek/deepseek-v4-flash:free",
        "google:gemini-2.5-flash",
        "openai:gpt-5-mini",
        "deepseek:deepseek-chat",
        "anthropic:claude-haiku-4-5",
    ),
    "advanced": (
        "openrouter:qwen/qwen3-coder:free",
        "google:gemini-2.5-pro",
        "openai:gpt-5",
        "anthropic:claude-sonnet-4-5",
    ),
    "expert": (
        "anthropic:claude-opus-4-5",
        "openai:gpt-5.4",
        "google:gemini-3-pro-preview",
        "openai:o3",
    ),
}


@dataclass(frozen=True, slots=True)
class TaskDefaults:
    tier: str
    require: tuple[str, ...] = ()


# The task every unlisted task falls back to.
OTHER_TASK = "other"

DEFAULT_TASKS: dict[str, TaskDefaults] = {
    "classification": TaskDefaults("advanced", ("quality",)),
    "diarization": TaskDefaults("advanced", ("quality",)),
    "summarization": TaskDefaults("fast", ("fast",)),
    "entity_extraction": TaskDefaults("fast", ("fast",)),
    OTHER_TASK: TaskDefaults("balanced"),
}

# Requirement names besides the Capability values.
REQUIREMENT_WORDS: tuple[str, ...] = ("fast", "quality")

ADAPTERS: tuple[str, ...] = ("openai_compat", "anthropic", "gemini", "cohere")


@dataclass(frozen=True, slots=True)
class ProviderDefaults:
    adapter: str
    base_url: str
    key_env: str | None  # None: a local server that needs no key


BUILTIN_PROVIDERS: dict[str, ProviderDefaults] = {
    "openai": ProviderDefaults("openai_compat", "https://api.openai.com/v1", "OPENAI_API_KEY"),
    "anthropic": ProviderDefaults("anthropic", "https://api.anthropic.com", "ANTHROPIC_API_KEY"),
    "google": ProviderDefaults(
        "gemini", "https://generativelanguage.googleapis.com", "GEMINI_API_KEY"
    ),
    "groq": ProviderDefaults("openai_compat", "https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    "cohere": ProviderDefaults("cohere", "https://api.cohere.com", "COHERE_API_KEY"),
    "openrouter": ProviderDefaults(
        "openai_compat", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"
    ),
    "deepseek": ProviderDefaults(
        "openai_compat", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"
    ),
    "mistral": ProviderDefaults("openai_compat", "https://api.mistral.ai/v1", "MISTRAL_API_KEY"),
    "ollama": ProviderDefaults("openai_compat", "http://127.0.0.1:11434/v1", None),
    "vllm": ProviderDefaults("openai_compat", "http://127.0.0.1:8000/v1", None),
}

# [router]
DEFAULT_TIER = "balanced"
MAX_TIER = "expert"
PREFER_FREE = True
MAX_FALLBACK_ATTEMPTS = 2

# [limits.free]: OpenRouter's published limit for :free models.
FREE_RPM: int | None = 20
FREE_TPM: int | None = None

# [breaker]
BREAKER_FAILURE_THRESHOLD = 5
BREAKER_WINDOW_S = 60.0
BREAKER_COOLDOWN_S = 30.0

# [retry]
RETRY_MAX_RETRIES = 2
RETRY_BASE_DELAY_S = 0.5
RETRY_MAX_DELAY_S = 8.0

# [cache]
CACHE_ENABLED = False
CACHE_TTL_S = 3600.0

# [budget]
BUDGET_DEFAULT_USD: Decimal | None = None
BUDGET_ALERT_THRESHOLD = Decimal("0.8")
