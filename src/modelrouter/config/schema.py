"""The shape of ``modelrouter.toml`` (strict pydantic models) and of the resolved config.

``FileConfig`` is phase one: exactly what the file may say, every field optional, unknown keys and
wrong types rejected. ``RouterConfig`` is the result of phase two: frozen, pure data, every value
filled in (file, environment or default) and every model id canonical.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from modelrouter.config.defaults import OTHER_TASK, TIERS, did_you_mean, normalize_tier

ENV_PREFIX = "env::"
ENV_REF = re.compile(r"^env::[A-Z_][A-Z0-9_]*$")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")

AdapterName = Literal["openai_compat", "anthropic", "gemini", "cohere"]
ValidatorKind = Literal["non_empty", "json", "json_schema", "regex", "length"]

# --------------------------------------------------------------------------- helpers


def dotted(*parts: str | int) -> str:
    """A config path as TOML spells it: ``limits.models."groq:llama-3.1-8b-instant".rpm``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        name = part if _BARE_KEY.match(part) else f'"{part}"'
        text += f".{name}" if text else name
    return text


def parse_decimal(value: object) -> Decimal:
    """A non-negative finite amount from a string, int or float (a float goes through ``str``)."""
    if isinstance(value, bool):
        raise ValueError(f'expected an amount like "0.50", got {value!r}')
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, (int, float)):
        amount = Decimal(str(value))
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f'expected an amount like "0.50", got {value!r}') from None
    else:
        raise ValueError(f'expected an amount like "0.50", got {type(value).__name__}')
    if not amount.is_finite():
        raise ValueError(f"expected a finite amount, got {value!r}")
    if amount < 0:
        raise ValueError(f"expected an amount >= 0, got {value!r}")
    return amount


Money = Annotated[Decimal, BeforeValidator(parse_decimal)]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]


# --------------------------------------------------------------------------- phase 1: the file


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class RouterSection(_Section):
    default_tier: str | None = None
    max_tier: str | None = None
    prefer_free: bool | None = None
    max_fallback_attempts: NonNegativeInt | None = None
    max_cost_per_request_usd: Money | None = None
    monthly_budget_usd: Money | None = None
    provider: str | None = None


class ProviderSection(_Section):
    api_key: str | None = None
    base_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    adapter: AdapterName | None = None
    headers: dict[str, str] | None = None
    enabled: bool | None = None

    @field_validator("api_key")
    @classmethod
    def _env_reference(cls, value: str | None) -> str | None:
        if value is not None and value.lower().startswith("env:") and not ENV_REF.match(value):
            raise ValueError(
                f"{value!r} is not a valid environment reference: write env:: then an "
                "upper-case variable name, e.g. env::OPENAI_API_KEY"
            )
        return value


class TierSection(_Section):
    models: list[str] | None = Field(default=None, min_length=1)
    max_tokens: PositiveInt | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    connect_timeout_ms: PositiveInt | None = None
    first_token_timeout_ms: PositiveInt | None = None
    timeout_ms: PositiveInt | None = None


class TaskSection(_Section):
    tier: str | None = None
    require: list[str] | None = None


class LimitSection(_Section):
    rpm: PositiveInt | None = None
    tpm: PositiveInt | None = None


class LimitsSection(_Section):
    free: LimitSection | None = None
    models: dict[str, LimitSection] | None = None


class BreakerSection(_Section):
    failure_threshold: PositiveInt | None = None
    window_ms: PositiveInt | None = None
    cooldown_ms: NonNegativeInt | None = None


class RetrySection(_Section):
    max_retries: NonNegativeInt | None = None
    base_delay_ms: NonNegativeInt | None = None
    max_delay_ms: NonNegativeInt | None = None


class ValidatorSection(_Section):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    kind: ValidatorKind
    tiers: list[str] | None = None
    json_schema: dict[str, Any] | None = Field(default=None, alias="schema", validate_default=True)
    pattern: str | None = Field(default=None, validate_default=True)
    min_chars: NonNegativeInt | None = Field(default=None, validate_default=True)
    max_chars: NonNegativeInt | None = Field(default=None, validate_default=True)

    @field_validator("json_schema", "pattern", "min_chars", "max_chars")
    @classmethod
    def _fits_kind(cls, value: Any, info: ValidationInfo) -> Any:
        kind = info.data.get("kind")
        if kind is None:  # kind itself is invalid; that error is enough
            return value
        name = "schema" if info.field_name == "json_schema" else info.field_name
        if value is not None and name not in _KIND_FIELDS.get(kind, ()):
            raise ValueError(f"not used by kind {kind!r}")
        if value is None and kind == "json_schema" and name == "schema":
            raise ValueError("required for kind 'json_schema', e.g. schema = { type = \"object\" }")
        if kind == "regex" and name == "pattern":
            if value is None:
                raise ValueError("required for kind 'regex'")
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        if kind == "length" and name == "max_chars":
            low = info.data.get("min_chars")
            if value is None and low is None:
                raise ValueError("kind 'length' needs min_chars or max_chars")
            if value is not None and low is not None and low > value:
                raise ValueError(f"is below min_chars ({low})")
        return value


_KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "json_schema": ("schema",),
    "regex": ("pattern",),
    "length": ("min_chars", "max_chars"),
}


class CacheSection(_Section):
    enabled: bool | None = None
    ttl_s: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None


class BudgetSection(_Section):
    default_usd: Money | None = None
    alert_threshold: Annotated[Decimal, BeforeValidator(parse_decimal), Field(le=1)] | None = None
    on_exceeded: Literal["fail", "downgrade"] | None = None


class AlertsSection(_Section):
    cost_per_request_warn_usd: Money | None = None
    cost_per_request_critical_usd: Money | None = None
    p95_latency_ms: PositiveInt | None = None
    max_fallback_rate: Annotated[float, Field(ge=0, le=1)] | None = None
    min_cache_hit_rate: Annotated[float, Field(ge=0, le=1)] | None = None
    window_ms: PositiveInt | None = None
    webhook_url: str | None = Field(default=None, pattern=r"^https?://\S+$")


class RegistrySection(_Section):
    url: str | None = Field(default=None, pattern=r"^https?://\S+$")


class FileConfig(_Section):
    """Everything ``modelrouter.toml`` may contain; anything else is an error."""

    router: RouterSection = RouterSection()
    providers: dict[str, ProviderSection] = {}
    tiers: dict[str, TierSection] = {}
    tasks: dict[str, TaskSection] = {}
    fallbacks: dict[str, list[str]] = {}
    limits: LimitsSection = LimitsSection()
    alerts: AlertsSection = AlertsSection()
    breaker: BreakerSection = BreakerSection()
    retry: RetrySection = RetrySection()
    validators: list[ValidatorSection] = []
    cache: CacheSection = CacheSection()
    budget: BudgetSection = BudgetSection()
    registry: RegistrySection = RegistrySection()


def parse_config_text(text: str, *, file: str | None = None) -> FileConfig:
    """Phase 1: TOML syntax and the file's shape; errors name the file and the dotted key."""
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _config_error(f"invalid TOML: {exc}", file) from None
    try:
        return FileConfig.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(error) for error in exc.errors()]
        key, message = problems[0]
        for other_key, other_message in problems[1:]:
            message += f"; {other_key}: {other_message}"
        raise _config_error(message, file, key or None) from None


def _config_error(message: str, file: str | None, key: str | None = None) -> Exception:
    from modelrouter.errors import ConfigError

    return ConfigError(message, file=file, key=key)


def _describe(error: Any) -> tuple[str, str]:
    # A defaulted field is reported by its name; the file spells it by its alias.
    loc = tuple("schema" if part == "json_schema" else part for part in error["loc"])
    key = dotted(*loc)
    message = str(error["msg"])
    if error["type"] == "extra_forbidden":
        return key, "unknown field" + did_you_mean(str(loc[-1]), _fields_at(loc[:-1]))
    if error["type"] == "string_pattern_mismatch":
        if loc and loc[-1] in ("base_url", "url"):
            return key, f"expected an http:// or https:// URL, got {error['input']!r}"
        return key, f"{error['input']!r} may only use letters, digits, '_', '.' and '-'"
    return key, message.removeprefix("Value error, ")


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """The field names of the section at ``loc``, to suggest what a typo meant."""
    tp: Any = FileConfig
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            fields = tp.model_fields.items()
            found = next((f for n, f in fields if part in (n, f.alias)), None)
            if found is None:
                return []
            tp = found.annotation
        elif typing.get_origin(tp) in (dict, list):
            tp = typing.get_args(tp)[-1]
        else:
            return []
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [f.alias or n for n, f in tp.model_fields.items()]
    return []


# --------------------------------------------------------------------------- phase 2: the result


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds: to connect, to the first streamed token, and for the whole call."""

    connect_s: float
    first_token_s: float
    total_s: float


@dataclass(frozen=True, slots=True)
class TierSettings:
    name: str
    models: tuple[str, ...]  # canonical ids, in fallback order
    max_tokens: int
    temperature: float
    timeouts: Timeouts


@dataclass(frozen=True, slots=True)
class TaskSettings:
    name: str
    tier: str  # canonical tier name
    require: tuple[str, ...]  # "fast", "quality" or Capability values


class RateLimits(NamedTuple):
    """Requests and tokens per minute; None means no local limit."""

    rpm: int | None
    tpm: int | None


@dataclass(frozen=True, slots=True)
class LimitSettings:
    free: RateLimits | None
    models: Mapping[str, RateLimits]


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    failure_threshold: int
    window_s: float
    cooldown_s: float


@dataclass(frozen=True, slots=True)
class RetrySettings:
    max_retries: int
    base_delay_s: float
    max_delay_s: float


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """An endpoint + auth + adapter. ``api_key`` is ``env::VAR``, a literal, or None."""

    name: str
    adapter: str
    base_url: str
    api_key: str | None
    headers: Mapping[str, str]
    enabled: bool

    @property
    def needs_key(self) -> bool:
        return self.api_key is not None

    @property
    def key_env(self) -> str | None:
        """The variable the key is read from, if it is an ``env::`` reference."""
        if self.api_key is not None and self.api_key.startswith(ENV_PREFIX):
            return self.api_key[len(ENV_PREFIX) :]
        return None

    def resolve_api_key(self, environ: Mapping[str, str]) -> str | None:
        """The key to send now; None when it is not needed or its variable is unset/empty."""
        if self.api_key is None:
            return None
        var = self.key_env
        if var is None:
            return self.api_key
        return environ.get(var) or None


@dataclass(frozen=True, slots=True)
class ValidatorSettings:
    name: str
    kind: str
    tiers: tuple[str, ...]  # empty: every tier
    json_schema: Mapping[str, Any] | None = None
    pattern: str | None = None
    min_chars: int | None = None
    max_chars: int | None = None

    def applies_to(self, tier: str) -> bool:
        return not self.tiers or tier in self.tiers


@dataclass(frozen=True, slots=True)
class RouterSettings:
    default_tier: str
    max_tier: str
    prefer_free: bool
    max_fallback_attempts: int
    max_cost_per_request_usd: Decimal | None
    monthly_budget_usd: Decimal | None
    provider: str | None  # only use this provider


@dataclass(frozen=True, slots=True)
class CacheSettings:
    enabled: bool
    ttl_s: float


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """Alert thresholds (DESIGN §4); each alert fires once per ``window_s``."""

    cost_per_request_warn_usd: Decimal = Decimal("0.10")
    cost_per_request_critical_usd: Decimal = Decimal("0.50")
    p95_latency_s: float = 30.0
    max_fallback_rate: float = 0.10
    min_cache_hit_rate: float = 0.20
    window_s: float = 3600.0
    webhook_url: str | None = None


@dataclass(frozen=True, slots=True)
class BudgetSettings:
    default_usd: Decimal | None
    alert_threshold: Decimal  # fraction of a budget that raises an alert
    # "fail": BudgetExceededError before any call; "downgrade": answer with a free model.
    on_exceeded: str = "fail"


@dataclass(frozen=True, slots=True)
class RouterConfig:
    """The effective configuration: frozen, pure data, every value with its source."""

    file: str | None
    router: RouterSettings
    tiers: Mapping[str, TierSettings]
    tasks: Mapping[str, TaskSettings]
    fallbacks: Mapping[str, tuple[str, ...]]
    limits: LimitSettings
    breaker: BreakerSettings
    retry: RetrySettings
    providers: Mapping[str, ProviderSettings]
    validators: tuple[ValidatorSettings, ...] = ()
    cache: CacheSettings = CacheSettings(enabled=False, ttl_s=3600.0)
    budget: BudgetSettings = BudgetSettings(default_usd=None, alert_threshold=Decimal("0.8"))
    registry_url: str | None = None
    alerts: AlertSettings = AlertSettings()
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def tier(self, name: str) -> TierSettings:
        """A tier by name or alias (``budget``, ``premium``, ``simple``…)."""
        return self.tiers[normalize_tier(name)]

    def task(self, name: str) -> TaskSettings:
        """The rule for a task; unknown tasks get the ``other`` rule."""
        key = name.strip().lower()
        found = self.tasks.get(key)
        return found if found is not None else self.tasks[OTHER_TASK]

    def next_tier(self, name: str) -> str | None:
        """The tier above ``name`` for escalation, never above ``router.max_tier``."""
        index = TIERS.index(normalize_tier(name))
        if index >= TIERS.index(self.router.max_tier):
            return None
        return TIERS[index + 1]

    def limits_for(self, model_id: str, free: bool) -> RateLimits | None:
        """The local (rpm, tpm) limit for a model: its own entry over the free defaults."""
        own = self.limits.models.get(model_id)
        base = self.limits.free if free else None
        if own is None:
            return base
        if base is None:
            return own
        return RateLimits(
            own.rpm if own.rpm is not None else base.rpm,
            own.tpm if own.tpm is not None else base.tpm,
        )

    def validators_for(self, tier: str) -> tuple[ValidatorSettings, ...]:
        canonical = normalize_tier(tier)
        return tuple(v for v in self.validators if v.applies_to(canonical))

    def provider(self, name: str) -> ProviderSettings | None:
        return self.providers.get(name)

    @property
    def model_ids(self) -> tuple[str, ...]:
        """Every distinct model named by the tiers, cheapest tier first."""
        seen: dict[str, None] = {}
        for tier in self.tiers.values():
            for model in tier.models:
                seen.setdefault(model, None)
        return tuple(seen)
