"""The model catalog: models, capabilities and exact, versioned prices.

Everything here reads the process-wide catalog (bundled, or ``MODELROUTER_CATALOG_DIR``),
loaded on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from modelrouter.catalog.capabilities import find_models, parse_capabilities, validate_capabilities
from modelrouter.catalog.loader import Catalog, get_catalog, reset_catalog
from modelrouter.catalog.pricing import Cost, ModelPrice, Usage, format_usd, price_usage
from modelrouter.catalog.schema import Capability, ModelSpec, QualityClass, SpeedClass
from modelrouter.errors import PricingError

__all__ = [
    "Capability",
    "Catalog",
    "Cost",
    "ModelPrice",
    "ModelSpec",
    "PriceHistoryEntry",
    "QualityClass",
    "SpeedClass",
    "Usage",
    "calculate_cost",
    "cost_or_none",
    "find_models",
    "format_usd",
    "get_catalog",
    "get_model",
    "get_pricing",
    "get_pricing_history",
    "list_models",
    "parse_capabilities",
    "reset_catalog",
    "validate_capabilities",
]


def get_model(name: str) -> ModelSpec:
    """The model with this id (``openai:gpt-5``), alias or provider identifier."""
    return get_catalog().get(name)


def list_models() -> list[ModelSpec]:
    return list(get_catalog())


def get_pricing(model: str, on: date | None = None) -> ModelPrice:
    """The price in force on ``on`` (default today, UTC); PricingError if there is none."""
    catalog = get_catalog()
    spec = catalog.get(model)
    price = catalog.prices.price(spec.pricing_ref, on)
    if price is None:
        raise _no_price(spec, on)
    return price


def _as_usage(usage: Usage | Mapping[str, int]) -> Usage:
    return usage if isinstance(usage, Usage) else Usage(**usage)


def calculate_cost(
    model: str, usage: Usage | Mapping[str, int], on: date | None = None
) -> Cost:
    """The itemised cost of ``usage`` on ``model``; PricingError if it has no price."""
    catalog = get_catalog()
    spec = catalog.get(model)
    price = catalog.prices.price(spec.pricing_ref, on)
    if price is None:
        raise _no_price(spec, on)
    return price_usage(price, _as_usage(usage), spec.model_id)


def cost_or_none(
    model: str, usage: Usage | Mapping[str, int], on: date | None = None
) -> Cost | None:
    """Like ``calculate_cost`` but None ("unknown") for an unpriced model: for request paths."""
    catalog = get_catalog()
    spec = catalog.find(model)
    if spec is None:
        return None
    price = catalog.prices.price(spec.pricing_ref, on)
    if price is None:
        return None
    return price_usage(price, _as_usage(usage), spec.model_id)


class PriceHistoryEntry:
    """One change in a model's price: from ``effective_date`` on, ``price`` (None = retired)."""

    __slots__ = ("effective_date", "price")

    def __init__(self, effective_date: date, price: ModelPrice | None) -> None:
        self.effective_date = effective_date
        self.price = price

    def __repr__(self) -> str:
        return f"PriceHistoryEntry({self.effective_date.isoformat()}, {self.price!r})"

    def change_from(self, previous: PriceHistoryEntry | None) -> dict[str, Decimal] | None:
        """Percentage change of each price that changed against ``previous``."""
        if previous is None or previous.price is None or self.price is None:
            return None
        changes: dict[str, Decimal] = {}
        for field in ("input", "output", "cache_read", "cache_write"):
            old = getattr(previous.price, field)
            new = getattr(self.price, field)
            if old and new != old:
                changes[field] = (new - old) * 100 / old
        return changes


def get_pricing_history(model: str) -> list[PriceHistoryEntry]:
    """Every price version of ``model``, oldest first."""
    catalog = get_catalog()
    spec = catalog.get(model)
    ref = spec.pricing_ref
    return [
        PriceHistoryEntry(day, price)
        for day, price in zip(
            catalog.prices.history_dates(ref), catalog.prices.history(ref), strict=True
        )
    ]


def _no_price(spec: ModelSpec, on: date | None) -> PricingError:
    when = f" on {on.isoformat()}" if on else ""
    history = get_catalog().prices.history_dates(spec.pricing_ref)
    hint = f"; its first price is from {history[0].isoformat()}" if history else ""
    return PricingError(f"no price for {spec.model_id!r}{when} ({spec.pricing_ref}){hint}")
