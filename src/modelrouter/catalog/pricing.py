"""Exact, versioned prices and the cost of a request.

Prices are USD per million tokens, ``Decimal`` end to end. A pricing file holds
``pricing_versions``; a model's price on a date is its entry in the newest version whose
``effective_date`` is on or before that date. Versions list only the models whose price is
new or changed, so a price history is just the versions that mention a model.

Token conventions follow OpenAI's usage object: ``input_tokens`` counts every prompt token,
including those read from or written to the cache; ``output_tokens`` counts every completion
token, including reasoning tokens. The cached, cache-write and reasoning counts say which part
of those totals is billed at their own rates.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from modelrouter.errors import CatalogError, PricingError

MILLION = Decimal(1_000_000)
ZERO = Decimal(0)
CENT = Decimal("0.01")


# --------------------------------------------------------------------------- file schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Price = Decimal


class PriceTierEntry(_Strict):
    """Prices that apply to the whole request once its prompt exceeds a threshold."""

    above_input_tokens: int = Field(gt=0)
    input: Price = Field(ge=0)
    output: Price = Field(ge=0)
    cache_read: Price | None = Field(default=None, ge=0)
    cache_write: Price | None = Field(default=None, ge=0)
    reasoning: Price | None = Field(default=None, ge=0)


class ModelPriceEntry(_Strict):
    input: Price = Field(ge=0)
    output: Price = Field(ge=0)
    cache_read: Price | None = Field(default=None, ge=0)
    cache_write: Price | None = Field(default=None, ge=0)
    reasoning: Price | None = Field(default=None, ge=0)
    tiers: tuple[PriceTierEntry, ...] = ()
    source: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _tiers_ascend(self) -> ModelPriceEntry:
        thresholds = [t.above_input_tokens for t in self.tiers]
        if thresholds != sorted(set(thresholds)):
            raise ValueError("tiers must have strictly ascending above_input_tokens")
        return self


class PricingVersionEntry(_Strict):
    effective_date: date
    source: str | None = None
    note: str | None = None
    # ``None`` for a model means: no published price from this date on (retired).
    models: dict[str, ModelPriceEntry | None]


class PricingFile(_Strict):
    provider: str
    currency: str = "USD"
    unit: str = "per_million_tokens"
    pricing_versions: tuple[PricingVersionEntry, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _checks(self) -> PricingFile:
        if self.currency != "USD":
            raise ValueError(f"currency must be 'USD', got {self.currency!r}")
        if self.unit != "per_million_tokens":
            raise ValueError(f"unit must be 'per_million_tokens', got {self.unit!r}")
        dates = [v.effective_date for v in self.pricing_versions]
        if len(set(dates)) != len(dates):
            raise ValueError("pricing_versions: two versions share an effective_date")
        return self


# --------------------------------------------------------------------------- runtime types


@dataclass(frozen=True, slots=True)
class PriceTier:
    above_input_tokens: int
    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal
    reasoning: Decimal


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """A model's prices (USD per million tokens) from ``effective_date`` on."""

    pricing_ref: str
    effective_date: date
    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal
    reasoning: Decimal
    tiers: tuple[PriceTier, ...] = ()
    source: str | None = None

    @property
    def is_free(self) -> bool:
        return self.input == ZERO and self.output == ZERO and not self.tiers

    @property
    def blended(self) -> Decimal:
        """Blended price per million tokens, ``(3 × input + output) / 4``."""
        return (3 * self.input + self.output) / 4

    def rates_for(self, input_tokens: int) -> ModelPrice | PriceTier:
        """The rate card that applies to a prompt of ``input_tokens``."""
        chosen: ModelPrice | PriceTier = self
        for tier in self.tiers:
            if input_tokens > tier.above_input_tokens:
                chosen = tier
        return chosen

    def to_dict(self) -> dict[str, Any]:
        return {
            "effective_date": self.effective_date.isoformat(),
            "input": str(self.input),
            "output": str(self.output),
            "cache_read": str(self.cache_read),
            "cache_write": str(self.cache_write),
            "reasoning": str(self.reasoning),
            "tiers": [
                {
                    "above_input_tokens": t.above_input_tokens,
                    "input": str(t.input),
                    "output": str(t.output),
                    "cache_read": str(t.cache_read),
                    "cache_write": str(t.cache_write),
                    "reasoning": str(t.reasoning),
                }
                for t in self.tiers
            ],
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one call, in OpenAI's convention (see the module docstring)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0

    def __post_init__(self) -> None:
        for name in (
            "input_tokens", "output_tokens", "cached_input_tokens",
            "cache_write_tokens", "reasoning_tokens",
        ):
            value = getattr(self, name)
            if type(value) is not int or value < 0:
                raise PricingError(f"usage.{name} must be a whole number ≥ 0, got {value!r}")
        if self.cached_input_tokens + self.cache_write_tokens > self.input_tokens:
            raise PricingError(
                f"usage: cached ({self.cached_input_tokens}) + cache-write "
                f"({self.cache_write_tokens}) tokens exceed input tokens ({self.input_tokens}); "
                "input_tokens counts every prompt token, cached ones included"
            )
        if self.reasoning_tokens > self.output_tokens:
            raise PricingError(
                f"usage: reasoning tokens ({self.reasoning_tokens}) exceed output tokens "
                f"({self.output_tokens}); output_tokens counts reasoning tokens too"
            )

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class Cost:
    """An itemised cost in USD. ``total`` is exact; round only for display."""

    model: str
    input: Decimal
    cached_read: Decimal
    cache_write: Decimal
    output: Decimal
    reasoning: Decimal
    total: Decimal
    price_date: date
    tier_above_input_tokens: int | None = None
    currency: str = "USD"

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "currency": self.currency,
            "input": format_usd(self.input),
            "cached_read": format_usd(self.cached_read),
            "cache_write": format_usd(self.cache_write),
            "output": format_usd(self.output),
            "reasoning": format_usd(self.reasoning),
            "total": format_usd(self.total),
            "price_date": self.price_date.isoformat(),
            "tier_above_input_tokens": self.tier_above_input_tokens,
        }


def format_usd(amount: Decimal) -> str:
    """An exact decimal string with at least two decimals: ``18.00``, ``0.000125``."""
    if amount == amount.to_integral_value():
        return str(amount.quantize(CENT))
    text = format(amount.normalize(), "f")
    decimals = len(text.partition(".")[2])
    return text if decimals >= 2 else str(amount.quantize(CENT))


def price_usage(price: ModelPrice, usage: Usage, model: str) -> Cost:
    """The itemised cost of ``usage`` at ``price`` (pure, exact)."""
    rates = price.rates_for(usage.input_tokens)
    uncached = usage.input_tokens - usage.cached_input_tokens - usage.cache_write_tokens
    visible_output = usage.output_tokens - usage.reasoning_tokens
    input_cost = uncached * rates.input / MILLION
    cached_cost = usage.cached_input_tokens * rates.cache_read / MILLION
    write_cost = usage.cache_write_tokens * rates.cache_write / MILLION
    output_cost = visible_output * rates.output / MILLION
    reasoning_cost = usage.reasoning_tokens * rates.reasoning / MILLION
    return Cost(
        model=model,
        input=input_cost,
        cached_read=cached_cost,
        cache_write=write_cost,
        output=output_cost,
        reasoning=reasoning_cost,
        total=input_cost + cached_cost + write_cost + output_cost + reasoning_cost,
        price_date=price.effective_date,
        tier_above_input_tokens=rates.above_input_tokens if rates is not price else None,  # type: ignore[union-attr]
    )


# --------------------------------------------------------------------------- the price book


def today_ordinal() -> int:
    # time.time() is ~20x cheaper than date.today(); prices change on UTC dates.
    return int(time.time() // 86400) + date(1970, 1, 1).toordinal()


@dataclass(slots=True)
class _History:
    ordinals: list[int]
    prices: list[ModelPrice | None]

    def at(self, ordinal: int) -> ModelPrice | None:
        index = bisect.bisect_right(self.ordinals, ordinal) - 1
        return self.prices[index] if index >= 0 else None


class PriceBook:
    """Every model's price history, keyed by ``pricing_ref`` (``provider/model``)."""

    def __init__(self, histories: Mapping[str, _History]) -> None:
        self._histories = dict(histories)

    @classmethod
    def from_files(cls, files: Mapping[str, PricingFile]) -> PriceBook:
        histories: dict[str, _History] = {}
        for provider, pricing_file in files.items():
            versions = sorted(pricing_file.pricing_versions, key=lambda v: v.effective_date)
            for version in versions:
                for model, entry in version.models.items():
                    ref = f"{provider}/{model}"
                    history = histories.setdefault(ref, _History([], []))
                    history.ordinals.append(version.effective_date.toordinal())
                    history.prices.append(
                        None if entry is None else _to_price(ref, version, entry)
                    )
        return cls(histories)

    def __contains__(self, pricing_ref: object) -> bool:
        return pricing_ref in self._histories

    def refs(self) -> list[str]:
        return sorted(self._histories)

    def price(self, pricing_ref: str, on: date | None = None) -> ModelPrice | None:
        """The price in force on ``on`` (default: today, UTC), or None if there is none."""
        history = self._histories.get(pricing_ref)
        if history is None:
            return None
        return history.at(today_ordinal() if on is None else on.toordinal())

    def price_on_ordinal(self, pricing_ref: str, ordinal: int) -> ModelPrice | None:
        """``price`` for a date given as ``date.toordinal()``: for loops over many models."""
        history = self._histories.get(pricing_ref)
        return None if history is None else history.at(ordinal)

    def history(self, pricing_ref: str) -> list[ModelPrice | None]:
        history = self._histories.get(pricing_ref)
        return list(history.prices) if history else []

    def history_dates(self, pricing_ref: str) -> list[date]:
        history = self._histories.get(pricing_ref)
        return [date.fromordinal(o) for o in history.ordinals] if history else []


def _to_price(ref: str, version: PricingVersionEntry, entry: ModelPriceEntry) -> ModelPrice:
    cache_read = entry.input if entry.cache_read is None else entry.cache_read
    cache_write = entry.input if entry.cache_write is None else entry.cache_write
    reasoning = entry.output if entry.reasoning is None else entry.reasoning
    tiers = tuple(
        PriceTier(
            above_input_tokens=t.above_input_tokens,
            input=t.input,
            output=t.output,
            cache_read=t.input if t.cache_read is None else t.cache_read,
            cache_write=t.input if t.cache_write is None else t.cache_write,
            reasoning=t.output if t.reasoning is None else t.reasoning,
        )
        for t in entry.tiers
    )
    return ModelPrice(
        pricing_ref=ref,
        effective_date=version.effective_date,
        input=entry.input,
        output=entry.output,
        cache_read=cache_read,
        cache_write=cache_write,
        reasoning=reasoning,
        tiers=tiers,
        source=entry.source or version.source,
    )


def parse_pricing_file(path_name: str, raw: Any, provider: str) -> PricingFile:
    """Validate one pricing file's parsed YAML; errors name the file and the field."""
    from modelrouter.catalog.loader import describe_validation_error

    if not isinstance(raw, dict):
        raise CatalogError("expected a mapping at the top level", file=path_name)
    try:
        parsed = PricingFile.model_validate(raw)
    except ValidationError as exc:
        raise CatalogError(describe_validation_error(exc), file=path_name) from None
    if parsed.provider != provider:
        raise CatalogError(
            f"provider is {parsed.provider!r} but the file is named {provider}.yaml",
            file=path_name,
            key="provider",
        )
    return parsed
