"""Find ``modelrouter.toml``, parse it strictly (phase 1), resolve it against the catalog (phase 2).

Search order: the ``path`` argument, ``MODELROUTER_CONFIG``, ``./modelrouter.toml``, then the user
config dir (``MODELROUTER_HOME`` if set, else platformdirs' ``user_config_dir("modelrouter")``).
No file at all means the built-in defaults. Environment overrides are applied last (``env.py``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from modelrouter.config import defaults as d
from modelrouter.config.defaults import did_you_mean
from modelrouter.config.env import apply_env
from modelrouter.config.schema import (
    ENV_PREFIX,
    AlertSettings,
    BreakerSettings,
    BudgetSettings,
    CacheSettings,
    FileConfig,
    LimitSection,
    LimitSettings,
    ProviderSettings,
    RateLimits,
    RetrySettings,
    RouterConfig,
    RouterSettings,
    TaskSettings,
    TierSettings,
    Timeouts,
    ValidatorSettings,
    dotted,
    parse_config_text,
)
from modelrouter.errors import ConfigError

if TYPE_CHECKING:
    from modelrouter.catalog.loader import Catalog

HOME_ENV = "MODELROUTER_HOME"


# --------------------------------------------------------------------------- finding


def user_config_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    override = env.get(HOME_ENV)
    if override:
        return Path(override)
    from platformdirs import user_config_dir as platform_dir

    return Path(platform_dir("modelrouter", appauthor=False))


def find_config_file(
    path: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
) -> Path | None:
    """The config file to use, or None for the built-in defaults.

    A file named explicitly (argument or ``MODELROUTER_CONFIG``) must exist.
    """
    env = os.environ if environ is None else environ
    explicit, origin = (
        (path, None) if path is not None else (env.get(d.CONFIG_ENV) or None, d.CONFIG_ENV)
    )
    if explicit is not None:
        candidate = Path(explicit).expanduser()
        if not candidate.is_file():
            raise ConfigError(
                "no such config file",
                file=str(candidate),
                key=origin,
                hint="run 'modelrouter config check FILE' on an existing file",
            )
        return candidate
    for folder in (Path(cwd) if cwd is not None else Path.cwd(), user_config_dir(env)):
        candidate = folder / d.CONFIG_FILENAME
        if candidate.is_file():
            return candidate
    return None


# --------------------------------------------------------------------------- phase 1: parse


def parse_config_file(path: str | Path) -> FileConfig:
    """Read and validate the file's shape; errors name the file and the dotted key."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=file) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", file=file) from None
    return parse_config_text(text, file=file)


# --------------------------------------------------------------------------- phase 2: resolve


def load_config(
    path: str | Path | None = None, *, environ: Mapping[str, str] | None = None
) -> RouterConfig:
    """Find, parse and resolve the config, then apply environment overrides.

    ``environ`` defaults to ``os.environ``; it is read here and never kept.
    """
    env: Mapping[str, str] = dict(os.environ) if environ is None else environ
    found = find_config_file(path, environ=env)
    file_config = parse_config_file(found) if found is not None else FileConfig()
    from modelrouter.catalog.loader import get_catalog

    catalog = get_catalog()
    config = resolve_config(file_config, catalog, file=str(found) if found else None)
    config = apply_env(config, env, catalog)
    check_consistency(config)
    return config


class _Resolver:
    def __init__(self, fc: FileConfig, catalog: Catalog, file: str | None) -> None:
        self.fc = fc
        self.catalog = catalog
        self.file = file
        self.sources: dict[str, str] = {}

    def error(self, key: str, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(message, file=self.file, key=key, hint=hint)

    def pick(self, key: str, value: Any, default: Any) -> Any:
        """The file's value if it gave one, else the default; records where it came from."""
        self.sources[key] = "default" if value is None else "file"
        return default if value is None else value

    def model(self, key: str, name: str) -> str:
        """A model id or alias → its canonical id, checking its provider is configured."""
        spec = self.catalog.find(name)
        if spec is None:
            raise self.error(key, str(self.catalog.unknown(name)))
        return spec.model_id

    def tier_name(self, key: str, name: str) -> str:
        canonical = d.TIER_ALIASES.get(name.strip().lower(), name.strip().lower())
        if canonical not in d.TIERS:
            options = (*d.TIERS, *d.TIER_ALIASES)
            raise self.error(
                key,
                f"unknown tier {name!r}{did_you_mean(name.lower(), options)}",
                hint="tiers are " + ", ".join(d.TIERS),
            )
        return canonical


def resolve_config(fc: FileConfig, catalog: Catalog, *, file: str | None = None) -> RouterConfig:
    """Phase 2: fill defaults, canonicalise names, check every cross-reference."""
    r = _Resolver(fc, catalog, file)
    providers = _providers(r)
    router = _router(r)
    tiers = _tiers(r, providers)
    config = RouterConfig(
        file=file,
        router=router,
        tiers=MappingProxyType(tiers),
        tasks=MappingProxyType(_tasks(r)),
        fallbacks=MappingProxyType(_fallbacks(r)),
        limits=_limits(r),
        breaker=_breaker(r),
        retry=_retry(r),
        providers=MappingProxyType(providers),
        validators=_validators(r),
        cache=CacheSettings(
            enabled=r.pick("cache.enabled", fc.cache.enabled, d.CACHE_ENABLED),
            ttl_s=float(r.pick("cache.ttl_s", fc.cache.ttl_s, d.CACHE_TTL_S)),
        ),
        budget=BudgetSettings(
            default_usd=r.pick("budget.default_usd", fc.budget.default_usd, d.BUDGET_DEFAULT_USD),
            alert_threshold=r.pick(
                "budget.alert_threshold", fc.budget.alert_threshold, d.BUDGET_ALERT_THRESHOLD
            ),
            on_exceeded=r.pick("budget.on_exceeded", fc.budget.on_exceeded, "fail"),
        ),
        registry_url=r.pick("registry.url", fc.registry.url, None),
        alerts=_alerts(r),
        sources=MappingProxyType(dict(r.sources)),
    )
    return config


def _alerts(r: _Resolver) -> AlertSettings:
    a, base = r.fc.alerts, AlertSettings()
    return AlertSettings(
        cost_per_request_warn_usd=r.pick("alerts.cost_per_request_warn_usd",
                                         a.cost_per_request_warn_usd,
                                         base.cost_per_request_warn_usd),
        cost_per_request_critical_usd=r.pick("alerts.cost_per_request_critical_usd",
                                             a.cost_per_request_critical_usd,
                                             base.cost_per_request_critical_usd),
        p95_latency_s=r.pick("alerts.p95_latency_ms", a.p95_latency_ms,
                             int(base.p95_latency_s * 1000)) / 1000,
        max_fallback_rate=r.pick("alerts.max_fallback_rate", a.max_fallback_rate,
                                 base.max_fallback_rate),
        min_cache_hit_rate=r.pick("alerts.min_cache_hit_rate", a.min_cache_hit_rate,
                                  base.min_cache_hit_rate),
        window_s=r.pick("alerts.window_ms", a.window_ms, int(base.window_s * 1000)) / 1000,
        webhook_url=r.pick("alerts.webhook_url", a.webhook_url, None),
    )


def _providers(r: _Resolver) -> dict[str, ProviderSettings]:
    out: dict[str, ProviderSettings] = {}
    names = list(d.BUILTIN_PROVIDERS) + [n for n in r.fc.providers if n not in d.BUILTIN_PROVIDERS]
    for name in names:
        section = r.fc.providers.get(name)
        builtin = d.BUILTIN_PROVIDERS.get(name)
        base = dotted("providers", name)
        if builtin is None:
            assert section is not None
            for required in ("adapter", "base_url"):
                if getattr(section, required) is None:
                    raise r.error(
                        f"{base}.{required}",
                        "required for a provider that is not built in",
                        hint="built-in providers: " + ", ".join(d.BUILTIN_PROVIDERS),
                    )
        default_key = f"{ENV_PREFIX}{builtin.key_env}" if builtin and builtin.key_env else None
        s = section
        api_key = r.pick(f"{base}.api_key", s.api_key if s else None, default_key)
        out[name] = ProviderSettings(
            name=name,
            adapter=r.pick(
                f"{base}.adapter", s.adapter if s else None, builtin and builtin.adapter
            ),
            base_url=r.pick(
                f"{base}.base_url", s.base_url if s else None, builtin and builtin.base_url
            ),
            api_key=api_key,
            headers=MappingProxyType(dict(r.pick(f"{base}.headers", s.headers if s else None, {}))),
            enabled=r.pick(f"{base}.enabled", s.enabled if s else None, True),
        )
    return out


def _router(r: _Resolver) -> RouterSettings:
    s = r.fc.router
    default_tier = r.pick("router.default_tier", s.default_tier, d.DEFAULT_TIER)
    max_tier = r.pick("router.max_tier", s.max_tier, d.MAX_TIER)
    return RouterSettings(
        default_tier=r.tier_name("router.default_tier", default_tier),
        max_tier=r.tier_name("router.max_tier", max_tier),
        prefer_free=r.pick("router.prefer_free", s.prefer_free, d.PREFER_FREE),
        max_fallback_attempts=r.pick(
            "router.max_fallback_attempts", s.max_fallback_attempts, d.MAX_FALLBACK_ATTEMPTS
        ),
        max_cost_per_request_usd=r.pick(
            "router.max_cost_per_request_usd", s.max_cost_per_request_usd, None
        ),
        monthly_budget_usd=r.pick("router.monthly_budget_usd", s.monthly_budget_usd, None),
        provider=r.pick("router.provider", s.provider, None),
    )


def _tiers(r: _Resolver, providers: Mapping[str, ProviderSettings]) -> dict[str, TierSettings]:
    by_tier: dict[str, tuple[str, Any]] = {}
    for key, section in r.fc.tiers.items():
        canonical = r.tier_name(f"tiers.{key}", key)
        if canonical in by_tier:
            raise r.error(
                f"tiers.{key}",
                f"tier {canonical!r} is configured twice",
                hint=f"[tiers.{by_tier[canonical][0]}] and [tiers.{key}] name the same tier",
            )
        by_tier[canonical] = (key, section)
    out: dict[str, TierSettings] = {}
    for tier in d.TIERS:
        key, section = by_tier.get(tier, (tier, None))
        base = f"tiers.{key}"
        dflt = d.TIER_DEFAULTS[tier]
        models: tuple[str, ...]
        if section is not None and section.models is not None:
            models = _model_list(r, f"{base}.models", section.models)
            for index, model in enumerate(models):
                if (provider := model.split(":", 1)[0]) not in providers:
                    msg = f"provider {provider!r} is not configured"
                    raise r.error(f"{base}.models[{index}]", msg)
        else:
            models = d.DEFAULT_TIER_MODELS[tier]
        r.sources[f"tiers.{tier}.models"] = (
            "default" if section is None or section.models is None else "file"
        )

        def get(name: str, section: Any = section) -> Any:
            return getattr(section, name) if section is not None else None

        total_ms = r.pick(f"tiers.{tier}.timeout_ms", get("timeout_ms"), None)
        total = total_ms / 1000 if total_ms is not None else dflt.timeout_s
        connect_ms = r.pick(f"tiers.{tier}.connect_timeout_ms", get("connect_timeout_ms"), None)
        first_ms = r.pick(
            f"tiers.{tier}.first_token_timeout_ms", get("first_token_timeout_ms"), None
        )
        for name in ("connect_timeout_ms", "first_token_timeout_ms"):
            if (value := get(name)) is not None and value / 1000 > total:
                raise r.error(
                    f"{base}.{name}",
                    f"{value} ms is longer than the total timeout ({round(total * 1000)} ms)",
                    hint="raise timeout_ms or lower this value",
                )
        out[tier] = TierSettings(
            name=tier,
            models=models,
            max_tokens=r.pick(f"tiers.{tier}.max_tokens", get("max_tokens"), dflt.max_tokens),
            temperature=float(
                r.pick(f"tiers.{tier}.temperature", get("temperature"), dflt.temperature)
            ),
            timeouts=Timeouts(
                connect_s=connect_ms / 1000
                if connect_ms is not None
                else min(d.DEFAULT_CONNECT_TIMEOUT_S, total),
                first_token_s=first_ms / 1000 if first_ms is not None else total,
                total_s=total,
            ),
        )
    return out


def _model_list(r: _Resolver, key: str, names: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for index, name in enumerate(names):
        model = r.model(f"{key}[{index}]", name)
        if model in out:
            raise r.error(f"{key}[{index}]", f"{model!r} is listed twice")
        out.append(model)
    return tuple(out)


def _requirements(r: _Resolver, key: str, names: list[str]) -> tuple[str, ...]:
    from modelrouter.catalog.schema import Capability

    valid = (*d.REQUIREMENT_WORDS, *(c.value for c in Capability))
    out: list[str] = []
    for index, name in enumerate(names):
        word = name.strip().lower()
        if word not in valid:
            raise r.error(
                f"{key}[{index}]",
                f"unknown requirement {name!r}{did_you_mean(word, valid)}",
                hint="use fast, quality or a capability such as json_mode",
            )
        if word not in out:
            out.append(word)
    return tuple(out)


def _tasks(r: _Resolver) -> dict[str, TaskSettings]:
    out: dict[str, TaskSettings] = {}
    for name, task_default in d.DEFAULT_TASKS.items():
        out[name] = TaskSettings(name, task_default.tier, task_default.require)
        r.sources[f"tasks.{name}.tier"] = "default"
        r.sources[f"tasks.{name}.require"] = "default"
    fallback = d.DEFAULT_TASKS[d.OTHER_TASK]
    for raw_name, section in r.fc.tasks.items():
        name = raw_name.strip().lower()
        base = dotted("tasks", raw_name)
        known = d.DEFAULT_TASKS.get(name, fallback)
        tier = r.tier_name(f"{base}.tier", section.tier) if section.tier is not None else known.tier
        require = (
            _requirements(r, f"{base}.require", section.require)
            if section.require is not None
            else known.require
        )
        out[name] = TaskSettings(name, tier, require)
        key = dotted("tasks", name)
        r.sources[f"{key}.tier"] = "file" if section.tier is not None else "default"
        r.sources[f"{key}.require"] = "file" if section.require is not None else "default"
    return out


def _fallbacks(r: _Resolver) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for raw, chain in r.fc.fallbacks.items():
        key = dotted("fallbacks", raw)
        model = r.model(key, raw)
        models = _model_list(r, key, chain)
        if model in models:
            raise r.error(f"{key}[{models.index(model)}]", f"{model!r} falls back to itself")
        out[model] = models
        r.sources[dotted("fallbacks", model)] = "file"
    return out


def _limits(r: _Resolver) -> LimitSettings:
    s = r.fc.limits
    free_section = s.free or LimitSection()
    free = RateLimits(
        r.pick("limits.free.rpm", free_section.rpm, d.FREE_RPM),
        r.pick("limits.free.tpm", free_section.tpm, d.FREE_TPM),
    )
    models: dict[str, RateLimits] = {}
    for raw, section in (s.models or {}).items():
        key = dotted("limits", "models", raw)
        model = r.model(key, raw)
        if model in models:
            raise r.error(key, f"{model!r} has two entries (an alias and its id)")
        models[model] = RateLimits(section.rpm, section.tpm)
        r.sources[dotted("limits", "models", model)] = "file"
    return LimitSettings(
        free=free if free != RateLimits(None, None) else None,
        models=MappingProxyType(models),
    )


def _breaker(r: _Resolver) -> BreakerSettings:
    s = r.fc.breaker
    window = r.pick("breaker.window_ms", s.window_ms, None)
    cooldown = r.pick("breaker.cooldown_ms", s.cooldown_ms, None)
    return BreakerSettings(
        failure_threshold=r.pick(
            "breaker.failure_threshold", s.failure_threshold, d.BREAKER_FAILURE_THRESHOLD
        ),
        window_s=window / 1000 if window is not None else d.BREAKER_WINDOW_S,
        cooldown_s=cooldown / 1000 if cooldown is not None else d.BREAKER_COOLDOWN_S,
    )


def _retry(r: _Resolver) -> RetrySettings:
    s = r.fc.retry
    base = r.pick("retry.base_delay_ms", s.base_delay_ms, None)
    cap = r.pick("retry.max_delay_ms", s.max_delay_ms, None)
    base_s = base / 1000 if base is not None else d.RETRY_BASE_DELAY_S
    cap_s = cap / 1000 if cap is not None else d.RETRY_MAX_DELAY_S
    if base_s > cap_s:
        key = "retry.base_delay_ms" if base is not None else "retry.max_delay_ms"
        raise r.error(
            key, f"base delay ({base_s * 1000:g} ms) exceeds max delay ({cap_s * 1000:g} ms)"
        )
    return RetrySettings(
        max_retries=r.pick("retry.max_retries", s.max_retries, d.RETRY_MAX_RETRIES),
        base_delay_s=base_s,
        max_delay_s=cap_s,
    )


def _validators(r: _Resolver) -> tuple[ValidatorSettings, ...]:
    out: list[ValidatorSettings] = []
    r.sources["validators"] = "file" if r.fc.validators else "default"
    for index, v in enumerate(r.fc.validators):
        base = f"validators[{index}]"
        if any(o.name == v.name for o in out):
            raise r.error(f"{base}.name", f"validator name {v.name!r} is used twice")
        tiers = [r.tier_name(f"{base}.tiers[{i}]", t) for i, t in enumerate(v.tiers or ())]
        schema = MappingProxyType(v.json_schema) if v.json_schema is not None else None
        out.append(
            ValidatorSettings(
                v.name,
                v.kind,
                tuple(dict.fromkeys(tiers)),
                schema,
                v.pattern,
                v.min_chars,
                v.max_chars,
            )
        )
    return tuple(out)


def check_consistency(config: RouterConfig) -> None:
    """Checks that span the file and the environment: blame whichever set the value."""

    def blame(key: str) -> tuple[str | None, str]:
        source = config.sources.get(key, "default")
        if source.startswith("env:"):
            return None, source[len("env:") :].split(",")[0]
        return config.file, key

    router = config.router
    if d.TIERS.index(router.default_tier) > d.TIERS.index(router.max_tier):
        file, key = blame("router.default_tier")
        raise ConfigError(
            f"default tier {router.default_tier!r} is above max_tier {router.max_tier!r}",
            file=file,
            key=key,
        )
    if router.provider is not None and router.provider not in config.providers:
        file, key = blame("router.provider")
        raise ConfigError(
            f"unknown provider {router.provider!r}"
            f"{did_you_mean(router.provider, config.providers)}",
            file=file,
            key=key,
            hint="providers: " + ", ".join(config.providers),
        )


__all__ = [
    "check_consistency",
    "find_config_file",
    "load_config",
    "parse_config_file",
    "parse_config_text",
    "resolve_config",
    "user_config_dir",
]
