"""Import LiteLLM's ``model_prices_and_context_window.json`` (prices in USD per token)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from modelrouter.catalog.importers.common import (
    SKIP_BAD_ID,
    SKIP_FILTERED,
    SKIP_NO_CONTEXT,
    SKIP_NO_TEXT_OUTPUT,
    SKIP_NOT_A_MODEL,
    SKIP_NOT_CHAT,
    SKIP_UNSUPPORTED_PROVIDER,
    Features,
    ImportResult,
    build_spec,
    is_free,
    per_million,
    status_from,
    to_date,
    to_tokens,
    usable_model_part,
    validated_price,
)
from modelrouter.catalog.pricing import ModelPriceEntry, PriceTierEntry
from modelrouter.errors import CatalogError

LABEL = "litellm"

#: ``litellm_provider`` → our provider.
PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "google",
    "groq": "groq",
    "cohere_chat": "cohere",
    "cohere": "cohere",
    "mistral": "mistral",
    "deepseek": "deepseek",
    "openrouter": "openrouter",
}
CHAT_MODES = frozenset({"chat", "responses"})
NOT_MODELS = frozenset({"sample_spec", "fallback_generalizations"})
SKIP_FINE_TUNE = "fine-tuning price template"

# Only the standard tier: suffixes such as _batches, _priority or _flex are other services.
_TIER_KEY = re.compile(
    r"^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost"
    r"|cache_creation_input_token_cost|output_cost_per_reasoning_token)_above_(\d+)k_tokens$"
)
_TIER_FIELD = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cache_read",
    "cache_creation_input_token_cost": "cache_write",
    "output_cost_per_reasoning_token": "reasoning",
}


def parse_litellm(
    data: Any, *, label: str, today: date, providers: frozenset[str] = frozenset()
) -> ImportResult:
    """Catalog entries from LiteLLM's cost map (pure)."""
    if not isinstance(data, dict) or not any(
        isinstance(entry, dict) and "litellm_provider" in entry for entry in data.values()
    ):
        raise CatalogError(
            "does not look like LiteLLM's model_prices_and_context_window.json "
            "(expected a map of model name to {litellm_provider, mode, input_cost_per_token...})"
        )
    result = ImportResult(label)
    for key, entry in data.items():
        outcome = _entry(str(key), entry, label=label, today=today, providers=providers)
        if isinstance(outcome, str):
            result.skip(outcome)
        else:
            spec, price, priority = outcome
            result.add(spec, price, priority=priority)
    return result


def _entry(
    key: str, entry: Any, *, label: str, today: date, providers: frozenset[str]
) -> tuple[dict[str, Any], ModelPriceEntry, int] | str:
    """A catalog entry with its priority among same-id twins, or why it is skipped."""
    if key in NOT_MODELS or not isinstance(entry, dict) or "litellm_provider" not in entry:
        return SKIP_NOT_A_MODEL
    if entry.get("mode") not in CHAT_MODES:
        return SKIP_NOT_CHAT
    litellm_provider = str(entry["litellm_provider"])
    provider = PROVIDERS.get(litellm_provider)
    if provider is None:
        return SKIP_UNSUPPORTED_PROVIDER
    if providers and provider not in providers:
        return SKIP_FILTERED
    if key.startswith("ft:"):
        return SKIP_FINE_TUNE
    outputs = entry.get("supported_output_modalities")
    if isinstance(outputs, list) and "text" not in outputs:
        return SKIP_NO_TEXT_OUTPUT
    price = _price(entry)
    if isinstance(price, str):
        return price
    context = to_tokens(entry.get("max_input_tokens")) or to_tokens(entry.get("max_tokens"))
    if context is None:
        return SKIP_NO_CONTEXT
    model_part, prefixed = _model_part(key, litellm_provider, provider)
    if not usable_model_part(model_part):
        return SKIP_BAD_ID
    output = to_tokens(entry.get("max_output_tokens")) or to_tokens(entry.get("max_tokens"))
    deprecation = to_date(entry.get("deprecation_date"))
    source_url = entry.get("source")
    spec = build_spec(
        provider=provider,
        model_part=model_part,
        name=None,
        context_tokens=context,
        output_tokens=output,
        features=_features(entry, price),
        free=is_free(price),
        label=label,
        today=today,
        deprecation_date=deprecation,
        status=status_from(deprecation, today, preview="preview" in model_part),
        pricing_page=source_url if _is_http(source_url) else None,
    )
    # "gemini/x" is how LiteLLM routes to the provider; it wins over a bare "x" twin.
    return spec, price, 1 if prefixed else 0


def _model_part(key: str, litellm_provider: str, provider: str) -> tuple[str, bool]:
    for prefix in (f"{litellm_provider}/", f"{provider}/"):
        if key.startswith(prefix):
            return key[len(prefix) :], True
    return key, False


def _price(entry: Mapping[str, Any]) -> ModelPriceEntry | str:
    """The entry's prices per million tokens, or why it has none we can use."""
    base = {
        "input": per_million(entry.get("input_cost_per_token")),
        "output": per_million(entry.get("output_cost_per_token")),
        "cache_read": per_million(entry.get("cache_read_input_token_cost"))
        if "cache_read_input_token_cost" in entry
        else per_million(entry.get("input_cost_per_token_cache_hit")),
        "cache_write": per_million(entry.get("cache_creation_input_token_cost")),
        "reasoning": per_million(entry.get("output_cost_per_reasoning_token")),
    }
    return validated_price(base, lambda: _tiers(entry, base))


def _tiers(
    entry: Mapping[str, Any], base: Mapping[str, Decimal | None]
) -> tuple[PriceTierEntry, ...]:
    by_threshold: dict[int, dict[str, Decimal]] = {}
    for key, value in entry.items():
        match = _TIER_KEY.match(key)
        amount = per_million(value) if match else None
        if match and amount is not None:
            threshold = int(match.group(2)) * 1000
            by_threshold.setdefault(threshold, {})[_TIER_FIELD[match.group(1)]] = amount
    tiers = []
    for threshold, rates in sorted(by_threshold.items()):
        if "input" not in rates and "output" not in rates:
            continue
        # LiteLLM charges the base rate for anything a tier does not list.
        merged = {name: rates.get(name, base[name]) for name in _TIER_FIELD.values()}
        if merged == dict(base):
            continue  # a tier at the base rates (often all zero) changes nothing
        stated = {name: value for name, value in merged.items() if value is not None}
        tiers.append(PriceTierEntry.model_validate({"above_input_tokens": threshold, **stated}))
    return tuple(tiers)


def _features(entry: Mapping[str, Any], price: ModelPriceEntry) -> Features:
    inputs = {"text"}
    for flag, modality in (
        ("supports_vision", "image"),
        ("supports_pdf_input", "pdf"),
        ("supports_audio_input", "audio"),
        ("supports_video_input", "video"),
    ):
        if entry.get(flag) is True:
            inputs.add(modality)
    modalities = entry.get("supported_modalities")
    if isinstance(modalities, list):
        inputs |= {str(m) for m in modalities}
    outputs = entry.get("supported_output_modalities")
    schema = entry.get("supports_response_schema") is True
    return Features(
        inputs=frozenset(inputs),
        outputs=frozenset(str(m) for m in outputs) if isinstance(outputs, list) else frozenset(
            {"text"}
        ),
        function_calling=entry.get("supports_function_calling") is True,
        structured_output=schema,
        json_mode=schema,
        reasoning=entry.get("supports_reasoning") is True,
        prompt_caching=entry.get("supports_prompt_caching") is True or price.cache_read is not None,
        batch_api="input_cost_per_token_batches" in entry,
        streaming=entry.get("supports_native_streaming") is not False,
        system_messages=entry.get("supports_system_messages") is not False,
    )


def _is_http(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("https://", "http://"))
