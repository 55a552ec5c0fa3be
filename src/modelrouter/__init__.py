"""modelrouter: pick the cheapest model that fits, know exactly what it costs.

``import modelrouter`` does no I/O and loads no data: the names below are imported from their
submodules on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> submodule that defines it; the public API, nothing else.
_EXPORTS: dict[str, str] = {
    "AllProvidersFailedError": "modelrouter.errors",
    "BudgetExceededError": "modelrouter.errors",
    "Capability": "modelrouter.catalog.schema",
    "Catalog": "modelrouter.catalog.loader",
    "CircuitOpenError": "modelrouter.errors",
    "ConfigError": "modelrouter.errors",
    "Cost": "modelrouter.catalog.pricing",
    "Decision": "modelrouter.routing.selection",
    "ModelPrice": "modelrouter.catalog.pricing",
    "ModelSpec": "modelrouter.catalog.schema",
    "PricingError": "modelrouter.errors",
    "ProviderError": "modelrouter.errors",
    "RateLimitedError": "modelrouter.errors",
    "Router": "modelrouter.routing.router",
    "RouterConfig": "modelrouter.config.schema",
    "RouterError": "modelrouter.errors",
    "RouterResult": "modelrouter.routing.router",
    "SyncRouter": "modelrouter.routing.sync",
    "UnknownModelError": "modelrouter.errors",
    "UnsupportedCapabilityError": "modelrouter.errors",
    "Usage": "modelrouter.catalog.pricing",
    "ValidationFailedError": "modelrouter.errors",
    "calculate_cost": "modelrouter.catalog",
    "find_models": "modelrouter.catalog.capabilities",
    "get_catalog": "modelrouter.catalog.loader",
    "get_model": "modelrouter.catalog",
    "get_model_for_task": "modelrouter.routing.seed",
    "get_pricing": "modelrouter.catalog",
    "get_pricing_history": "modelrouter.catalog",
    "list_models": "modelrouter.catalog",
    "load_config": "modelrouter.config.loader",
    "select_model": "modelrouter.routing.seed",
    "validate_capabilities": "modelrouter.catalog.capabilities",
}

__all__ = [
    "AllProvidersFailedError",
    "BudgetExceededError",
    "Capability",
    "Catalog",
    "CircuitOpenError",
    "ConfigError",
    "Cost",
    "Decision",
    "ModelPrice",
    "ModelSpec",
    "PricingError",
    "ProviderError",
    "RateLimitedError",
    "Router",
    "RouterConfig",
    "RouterError",
    "RouterResult",
    "SyncRouter",
    "UnknownModelError",
    "UnsupportedCapabilityError",
    "Usage",
    "ValidationFailedError",
    "__version__",
    "calculate_cost",
    "find_models",
    "get_catalog",
    "get_model",
    "get_model_for_task",
    "get_pricing",
    "get_pricing_history",
    "list_models",
    "load_config",
    "select_model",
    "validate_capabilities",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'modelrouter' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from modelrouter.catalog import (
        calculate_cost,
        get_model,
        get_pricing,
        get_pricing_history,
        list_models,
    )
    from modelrouter.catalog.capabilities import find_models, validate_capabilities
    from modelrouter.catalog.loader import Catalog, get_catalog
    from modelrouter.catalog.pricing import Cost, ModelPrice, Usage
    from modelrouter.catalog.schema import Capability, ModelSpec
    from modelrouter.config.loader import load_config
    from modelrouter.config.schema import RouterConfig
    from modelrouter.errors import (
        AllProvidersFailedError,
        BudgetExceededError,
        CircuitOpenError,
        ConfigError,
        PricingError,
        ProviderError,
        RateLimitedError,
        RouterError,
        UnknownModelError,
        UnsupportedCapabilityError,
        ValidationFailedError,
    )
    from modelrouter.routing.router import Router, RouterResult
    from modelrouter.routing.seed import get_model_for_task, select_model
    from modelrouter.routing.selection import Decision
    from modelrouter.routing.sync import SyncRouter
