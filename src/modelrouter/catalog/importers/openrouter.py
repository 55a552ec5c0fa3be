"""Import OpenRouter's ``GET /api/v1/models`` body (prices are strings, USD per token).

Every entry becomes provider ``openrouter`` with the OpenRouter id as the model part
(``openrouter:meta-llama/llama-3.3-70b-instruct:free``). ``"0"`` is free; ``"-1"`` marks a
router whose price depends on the model it picks, so it has no price of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from modelrouter.catalog.importers.common import (
    SKIP_BAD_ID,
    SKIP_DYNAMIC_PRICE,
    SKIP_FILTERED,
    SKIP_NEGATIVE_PRICE,
    SKIP_NO_CONTEXT,
    SKIP_NO_PRICE,
    SKIP_NO_TEXT_OUTPUT,
    SKIP_NOT_A_MODEL,
    Features,
    ImportResult,
    as_mapping,
    build_spec,
    is_free,
    per_million,
    status_from,
    to_cutoff,
    to_date,
    to_decimal,
    to_tokens,
    usable_model_part,
)
from modelrouter.catalog.pricing import ModelPriceEntry
from modelrouter.errors import CatalogError

LABEL = "openrouter"
PROVIDER = "openrouter"
MODEL_PAGE = "https://openrouter.ai/{id}"
_DYNAMIC = Decimal(-1)
_OPTIONAL_RATES = {
    "cache_read": "input_cache_read",
    "cache_write": "input_cache_write",
    "reasoning": "internal_reasoning",
}


def parse_openrouter(
    data: Any, *, label: str, today: date, providers: frozenset[str] = frozenset()
) -> ImportResult:
    """Catalog entries from OpenRouter's model list (pure)."""
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise CatalogError(
            "does not look like OpenRouter's /api/v1/models response "
            "(expected {\"data\": [{id, pricing, context_length, ...}]})"
        )
    result = ImportResult(label)
    if providers and PROVIDER not in providers:
        result.skipped[SKIP_FILTERED] += len(data["data"])
        return result
    for item in data["data"]:
        outcome = _entry(item, label=label, today=today)
        if isinstance(outcome, str):
            result.skip(outcome)
        else:
            result.add(*outcome)
    return result


def _entry(
    item: Any, *, label: str, today: date
) -> tuple[dict[str, Any], ModelPriceEntry] | str:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        return SKIP_NOT_A_MODEL
    model_part = item["id"].strip()
    architecture = as_mapping(item.get("architecture"))
    inputs = _names(architecture.get("input_modalities")) or {"text"}
    outputs = _names(architecture.get("output_modalities")) or {"text"}
    if "text" not in outputs:
        return SKIP_NO_TEXT_OUTPUT
    price = _price(as_mapping(item.get("pricing")))
    if isinstance(price, str):
        return price
    top = as_mapping(item.get("top_provider"))
    context = to_tokens(item.get("context_length")) or to_tokens(top.get("context_length"))
    if context is None:
        return SKIP_NO_CONTEXT
    if not usable_model_part(model_part):
        return SKIP_BAD_ID
    parameters = _names(item.get("supported_parameters"))
    expires = to_date(item.get("expiration_date"))
    spec = build_spec(
        provider=PROVIDER,
        model_part=model_part,
        name=item.get("name") if isinstance(item.get("name"), str) else None,
        context_tokens=context,
        output_tokens=to_tokens(top.get("max_completion_tokens")),
        features=Features(
            inputs=frozenset(inputs),
            outputs=frozenset(outputs),
            function_calling="tools" in parameters,
            structured_output="structured_outputs" in parameters,
            json_mode="response_format" in parameters,
            reasoning=bool(parameters & {"reasoning", "include_reasoning"}),
            prompt_caching=price.cache_read is not None,
        ),
        free=is_free(price),
        label=label,
        today=today,
        knowledge_cutoff=to_cutoff(item.get("knowledge_cutoff")),
        deprecation_date=expires,
        status=status_from(expires, today, preview="preview" in model_part),
        model_page=MODEL_PAGE.format(id=model_part),
    )
    return spec, price


def _names(value: Any) -> set[str]:
    return {str(v) for v in value} if isinstance(value, list) else set()


def _price(pricing: Mapping[str, Any]) -> ModelPriceEntry | str:
    prompt, completion = to_decimal(pricing.get("prompt")), to_decimal(pricing.get("completion"))
    if prompt is None or completion is None:
        return SKIP_NO_PRICE
    if _DYNAMIC in (prompt, completion):
        return SKIP_DYNAMIC_PRICE
    rates: dict[str, Decimal | None] = {
        "input": per_million(pricing.get("prompt")),
        "output": per_million(pricing.get("completion")),
    }
    for ours, theirs in _OPTIONAL_RATES.items():
        value = to_decimal(pricing.get(theirs))
        rates[ours] = None if value is None or value == _DYNAMIC else per_million(value)
    try:
        return ModelPriceEntry.model_validate({k: v for k, v in rates.items() if v is not None})
    except ValidationError:  # the only constraint a source can break: prices >= 0
        return SKIP_NEGATIVE_PRICE
