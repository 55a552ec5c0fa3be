"""Check what a model can do, and find the models that can do what a request needs."""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from modelrouter.catalog.loader import Catalog, get_catalog
from modelrouter.catalog.schema import Capability, ModelSpec
from modelrouter.errors import ConfigError, UnsupportedCapabilityError

_BY_VALUE = {c.value: c for c in Capability}


def parse_capabilities(names: Iterable[str | Capability]) -> list[Capability]:
    """Capabilities from their names; an unknown name is an error with a suggestion."""
    result: list[Capability] = []
    for name in names:
        if isinstance(name, Capability):
            result.append(name)
            continue
        key = name.strip().lower().replace("-", "_")
        capability = _BY_VALUE.get(key)
        if capability is None:
            close = difflib.get_close_matches(key, list(_BY_VALUE), n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}?" if close else None
            raise ConfigError(
                f"unknown capability {name!r}; known: {', '.join(_BY_VALUE)}",
                key="capabilities",
                hint=hint,
            )
        result.append(capability)
    return result


def validate_capabilities(
    model: str | ModelSpec,
    required: Iterable[str | Capability],
    warn_only: bool = False,
    *,
    catalog: Catalog | None = None,
) -> list[Capability]:
    """The required capabilities the model lacks (empty if none).

    Raises UnsupportedCapabilityError when some are missing, unless ``warn_only``, which
    issues a ``UserWarning`` instead.
    """
    spec = model if isinstance(model, ModelSpec) else (catalog or get_catalog()).get(model)
    have = spec.effective_capabilities()
    missing = [c for c in parse_capabilities(required) if c not in have]
    if missing:
        error = UnsupportedCapabilityError(spec.model_id, [c.value for c in missing])
        if not warn_only:
            raise error
        warnings.warn(str(error), UserWarning, stacklevel=2)
    return missing


def find_models(
    required: Iterable[str | Capability] = (),
    preferred: Iterable[str | Capability] = (),
    max_price: Decimal | float | str | None = None,
    min_context: int | None = None,
    *,
    provider: str | None = None,
    free: bool | None = None,
    on: date | None = None,
    catalog: Catalog | None = None,
) -> list[ModelSpec]:
    """Models with every ``required`` capability, ranked by fit then price.

    Fit is how many ``preferred`` capabilities a model has. Price is the blended price per
    million tokens, ``(3 × input + output) / 4``; ``max_price`` caps it, and models without a
    price rank last (and are dropped when ``max_price`` is given).
    """
    cat = catalog or get_catalog()
    need = set(parse_capabilities(required))
    want = set(parse_capabilities(preferred))
    cap = None if max_price is None else Decimal(str(max_price))
    ranked: list[tuple[int, int, Decimal, str, ModelSpec]] = []
    for spec in cat:
        if provider is not None and spec.provider != provider:
            continue
        if free is not None and spec.free != free:
            continue
        if min_context is not None and spec.metadata.context_window_input < min_context:
            continue
        have = spec.effective_capabilities()
        if not need <= have:
            continue
        price = cat.prices.price(spec.pricing_ref, on)
        if cap is not None and (price is None or price.blended > cap):
            continue
        blended = price.blended if price is not None else Decimal(0)
        ranked.append((-len(want & have), price is None, blended, spec.model_id, spec))
    ranked.sort(key=lambda row: row[:4])
    return [row[4] for row in ranked]
