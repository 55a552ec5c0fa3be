"""The seed environment variables, applied over the file; each value remembers its variable.

Tier model lists: a tier's list becomes, in this order and without duplicates,
``MODEL_FREE_<SEED>_1..3`` (free models), ``AI_MODEL_<TIER>``, ``MODEL_<SEED>``, then the
configured list — so free models are still tried first, as the router does anyway.
Seed names: ``BUDGET`` = fast, ``FALLBACK`` = balanced, ``PREMIUM`` = advanced.

An empty variable counts as unset. A bad value is a ConfigError naming the variable.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from modelrouter.config.defaults import DEFAULT_CONNECT_TIMEOUT_S, TIERS, normalize_tier
from modelrouter.config.schema import (
    RouterConfig,
    TierSettings,
    Timeouts,
    parse_decimal,
)
from modelrouter.errors import ConfigError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from modelrouter.catalog.loader import Catalog

SEED_TIERS: dict[str, str] = {"fast": "BUDGET", "balanced": "FALLBACK", "advanced": "PREMIUM"}
FREE_SLOTS = 3

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}

T = TypeVar("T")
D = TypeVar("D", bound="DataclassInstance")


def env_variables() -> tuple[str, ...]:
    """Every variable this module reads, for documentation and ``config show``."""
    names: list[str] = []
    for tier in TIERS:
        seed = SEED_TIERS.get(tier)
        if seed:
            names += [f"MODEL_FREE_{seed}_{i}" for i in range(1, FREE_SLOTS + 1)]
            names.append(f"MODEL_{seed}")
        names += [f"AI_MODEL_{tier.upper()}", f"AI_TIMEOUT_{tier.upper()}"]
    names += [
        "AI_PROVIDER",
        "AI_DEFAULT_TIER",
        "AI_MAX_TIER",
        "AI_MAX_COST_PER_REQUEST",
        "AI_MONTHLY_BUDGET",
        "AI_CACHE_ENABLED",
        "AI_CACHE_TTL",
        "DEFAULT_BUDGET",
        "COST_ALERT_THRESHOLD",
        "MAX_FALLBACK_ATTEMPTS",
        "MODEL_REGISTRY_URL",
    ]
    return tuple(names)


def apply_env(config: RouterConfig, environ: Mapping[str, str], catalog: Catalog) -> RouterConfig:
    """A new config with the seed variables in ``environ`` applied over ``config``."""

    def get(var: str) -> str | None:
        value = environ.get(var)
        return value.strip() if value and value.strip() else None

    sources = dict(config.sources)

    def read(var: str, key: str, parse: Callable[[str], T]) -> T | None:
        raw = get(var)
        if raw is None:
            return None
        try:
            value = parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{exc}, got {raw!r}", key=var) from None
        sources[key] = f"env:{var}"
        return value

    tiers = dict(config.tiers)
    for tier in TIERS:
        tiers[tier] = _tier_models(tiers[tier], get, catalog, sources)
        timeout = read(f"AI_TIMEOUT_{tier.upper()}", f"tiers.{tier}.timeout_ms", _seconds)
        if timeout is not None:
            tiers[tier] = _with_total_timeout(tiers[tier], timeout, sources, tier)

    router = config.router
    router = _replace(
        router,
        provider=read("AI_PROVIDER", "router.provider", lambda s: s.lower()),
        default_tier=read("AI_DEFAULT_TIER", "router.default_tier", _tier),
        max_tier=read("AI_MAX_TIER", "router.max_tier", _tier),
        max_cost_per_request_usd=read(
            "AI_MAX_COST_PER_REQUEST", "router.max_cost_per_request_usd", _usd
        ),
        monthly_budget_usd=read("AI_MONTHLY_BUDGET", "router.monthly_budget_usd", _usd),
        max_fallback_attempts=read("MAX_FALLBACK_ATTEMPTS", "router.max_fallback_attempts", _whole),
    )
    cache = _replace(
        config.cache,
        enabled=read("AI_CACHE_ENABLED", "cache.enabled", _bool),
        ttl_s=read("AI_CACHE_TTL", "cache.ttl_s", _non_negative_seconds),
    )
    budget = _replace(
        config.budget,
        default_usd=read("DEFAULT_BUDGET", "budget.default_usd", _usd),
        alert_threshold=read("COST_ALERT_THRESHOLD", "budget.alert_threshold", _fraction),
    )
    registry_url = read("MODEL_REGISTRY_URL", "registry.url", _url)
    return dataclasses.replace(
        config,
        router=router,
        tiers=MappingProxyType(tiers),
        cache=cache,
        budget=budget,
        registry_url=registry_url if registry_url is not None else config.registry_url,
        sources=MappingProxyType(sources),
    )


def _replace(obj: D, **changes: Any) -> D:
    """dataclasses.replace, ignoring the changes that are None (variable not set)."""
    given = {k: v for k, v in changes.items() if v is not None}
    return dataclasses.replace(obj, **given) if given else obj


def _tier_models(
    tier_settings: TierSettings,
    get: Callable[[str], str | None],
    catalog: Catalog,
    sources: dict[str, str],
) -> TierSettings:
    tier = tier_settings.name
    seed = SEED_TIERS.get(tier)
    picked: list[tuple[str, str]] = []  # (variable, canonical id)
    if seed:
        for slot in range(1, FREE_SLOTS + 1):
            var = f"MODEL_FREE_{seed}_{slot}"
            model = _model(var, get(var), catalog)
            if model is not None:
                if not catalog.get(model).free:
                    raise ConfigError(
                        f"{model!r} is not a free model",
                        key=var,
                        hint=f"use MODEL_{seed} for a paid model",
                    )
                picked.append((var, model))
    ordered = [f"AI_MODEL_{tier.upper()}"] + ([f"MODEL_{seed}"] if seed else [])
    for var in ordered:
        model = _model(var, get(var), catalog)
        if model is not None:
            picked.append((var, model))
    if not picked:
        return tier_settings
    models = tuple(dict.fromkeys([m for _, m in picked] + list(tier_settings.models)))
    sources[f"tiers.{tier}.models"] = "env:" + ",".join(var for var, _ in picked)
    return dataclasses.replace(tier_settings, models=models)


def _model(var: str, name: str | None, catalog: Catalog) -> str | None:
    if name is None:
        return None
    spec = catalog.find(name)
    if spec is None:
        raise ConfigError(str(catalog.unknown(name)), key=var)
    return spec.model_id


def _with_total_timeout(
    tier_settings: TierSettings, total: float, sources: dict[str, str], tier: str
) -> TierSettings:
    """A new total timeout; connect and first-token follow it unless configured, capped by it."""
    old = tier_settings.timeouts
    var = sources[f"tiers.{tier}.timeout_ms"]
    connect_key = f"tiers.{tier}.connect_timeout_ms"
    first_key = f"tiers.{tier}.first_token_timeout_ms"
    if sources.get(connect_key, "default") == "default":
        connect = min(DEFAULT_CONNECT_TIMEOUT_S, total)
    else:
        connect = min(old.connect_s, total)
    first = (
        total if sources.get(first_key, "default") == "default" else min(old.first_token_s, total)
    )
    if connect != old.connect_s:
        sources[connect_key] = var
    if first != old.first_token_s:
        sources[first_key] = var
    timeouts = Timeouts(connect_s=connect, first_token_s=first, total_s=total)
    return dataclasses.replace(tier_settings, timeouts=timeouts)


# --------------------------------------------------------------------------- value parsers
# Each raises ValueError with a message that ends before ", got '<raw>'".


def _whole(raw: str) -> int:
    if not re.fullmatch(r"\d+", raw):
        raise ValueError("expected a whole number")
    return int(raw)


def _finite(raw: str, what: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(what) from None
    if not math.isfinite(value):
        raise ValueError(what)
    return value


def _seconds(raw: str) -> float:
    value = _finite(raw, "expected a number of seconds greater than 0")
    if value <= 0:
        raise ValueError("expected a number of seconds greater than 0")
    return value


def _non_negative_seconds(raw: str) -> float:
    value = _finite(raw, "expected a number of seconds (0 or more)")
    if value < 0:
        raise ValueError("expected a number of seconds (0 or more)")
    return value


def _usd(raw: str) -> Decimal:
    try:
        return parse_decimal(raw.removeprefix("$"))
    except ValueError:
        raise ValueError("expected an amount in USD such as 0.50") from None


def _fraction(raw: str) -> Decimal:
    try:
        value = parse_decimal(raw)
    except ValueError:
        raise ValueError("expected a fraction between 0 and 1 such as 0.8") from None
    if value > 1:
        raise ValueError("expected a fraction between 0 and 1 such as 0.8")
    return value


def _bool(raw: str) -> bool:
    word = raw.lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError("expected true/false, 1/0 or yes/no")


def _tier(raw: str) -> str:
    try:
        return normalize_tier(raw)
    except ConfigError:
        raise ValueError(
            "expected a tier: " + ", ".join(TIERS) + " (or budget, fallback, premium)"
        ) from None


def _url(raw: str) -> str:
    if not re.fullmatch(r"https?://\S+", raw):
        raise ValueError("expected an http:// or https:// URL")
    return raw
