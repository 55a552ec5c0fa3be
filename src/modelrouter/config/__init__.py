"""Configuration: one strict ``modelrouter.toml``, the seed environment variables, and defaults.

``load_config()`` finds the file (``--config`` / ``MODELROUTER_CONFIG`` / ``./modelrouter.toml`` /
the user config dir), parses it strictly (unknown keys and wrong types are errors naming the file
and the dotted key), resolves every model, tier and provider name against the catalog, applies the
environment overrides and returns a frozen ``RouterConfig``. With no file and no environment, the
defaults work offline.

Importing this package loads no catalog and reads no file.
"""

from __future__ import annotations

from modelrouter.config.defaults import TIER_ALIASES, TIERS, normalize_tier
from modelrouter.config.loader import find_config_file, load_config
from modelrouter.config.schema import (
    BreakerSettings,
    BudgetSettings,
    CacheSettings,
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
)

__all__ = [
    "TIERS",
    "TIER_ALIASES",
    "BreakerSettings",
    "BudgetSettings",
    "CacheSettings",
    "LimitSettings",
    "ProviderSettings",
    "RateLimits",
    "RetrySettings",
    "RouterConfig",
    "RouterSettings",
    "TaskSettings",
    "TierSettings",
    "Timeouts",
    "ValidatorSettings",
    "find_config_file",
    "load_config",
    "normalize_tier",
]
