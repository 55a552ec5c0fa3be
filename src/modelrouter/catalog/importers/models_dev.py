"""Import models.dev's ``api.json`` (prices already in USD per million tokens).

Two shapes are accepted: the public ``api.json``, ``{"<provider>": {id, name, models}}``, and
the snapshot export, ``{"snapshot": {...}, "providers": {"<provider>": {...}}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from modelrouter.catalog.importers.common import (
    SKIP_BAD_ID,
    SKIP_FILTERED,
    SKIP_NO_CONTEXT,
    SKIP_NO_PRICE,
    SKIP_NO_TEXT_OUTPUT,
    SKIP_NOT_A_MODEL,
    SKIP_NOT_CHAT,
    SKIP_UNSUPPORTED_PROVIDER,
    SUPPORTED_PROVIDERS,
    Features,
    ImportResult,
    as_mapping,
    build_spec,
    exact,
    is_free,
    status_from,
    to_cutoff,
    to_date,
    to_tokens,
    usable_model_part,
    validated_price,
)
from modelrouter.catalog.pricing import ModelPriceEntry, PriceTierEntry
from modelrouter.errors import CatalogError

LABEL = "models.dev"
_RATES = ("input", "output", "cache_read", "cache_write", "reasoning")
_LEGACY_TIER_TOKENS = 200_000


def source_label(data: Any, name: str) -> str:
    """``models.dev@f3fc692`` for a snapshot that names its commit, else the file name."""
    snapshot = data.get("snapshot") if isinstance(data, dict) else None
    commit = snapshot.get("commit") if isinstance(snapshot, dict) else None
    return f"{LABEL}@{commit[:7]}" if isinstance(commit, str) and commit else f"{LABEL}:{name}"


def provider_map(data: Any) -> dict[str, Any]:
    """The ``provider id → provider`` mapping of either shape."""
    if isinstance(data, dict) and isinstance(data.get("providers"), dict):
        return dict(data["providers"])
    if isinstance(data, dict) and data and all(
        isinstance(p, dict) and isinstance(p.get("models"), dict) for p in data.values()
    ):
        return dict(data)
    raise CatalogError(
        "does not look like models.dev's api.json (expected {provider: {id, name, models}} "
        "or a snapshot with a 'providers' map)"
    )


def parse_models_dev(
    data: Any, *, label: str, today: date, providers: frozenset[str] = frozenset()
) -> ImportResult:
    """Catalog entries from models.dev (pure)."""
    result = ImportResult(label)
    for provider, body in provider_map(data).items():
        models = body.get("models") if isinstance(body, dict) else None
        if not isinstance(models, dict):
            result.skip(SKIP_NOT_A_MODEL)
            continue
        if provider not in SUPPORTED_PROVIDERS or (providers and provider not in providers):
            reason = SKIP_UNSUPPORTED_PROVIDER if provider not in SUPPORTED_PROVIDERS else (
                SKIP_FILTERED
            )
            result.skipped[reason] += len(models)
            continue
        for model_id, model in models.items():
            outcome = _entry(provider, str(model_id), model, label=label, today=today)
            if isinstance(outcome, str):
                result.skip(outcome)
            else:
                result.add(*outcome)
    return result


def _entry(
    provider: str, model_id: str, model: Any, *, label: str, today: date
) -> tuple[dict[str, Any], ModelPriceEntry] | str:
    if not isinstance(model, dict):
        return SKIP_NOT_A_MODEL
    modalities = as_mapping(model.get("modalities"))
    inputs = _names(modalities.get("input"), default={"text"})
    outputs = _names(modalities.get("output"), default={"text"})
    if "text" not in outputs:
        return SKIP_NO_TEXT_OUTPUT
    if "embed" in model_id or "embed" in str(model.get("family") or ""):
        return SKIP_NOT_CHAT
    price = _price(model.get("cost"))
    if isinstance(price, str):
        return price
    limit = as_mapping(model.get("limit"))
    context = to_tokens(limit.get("input")) or to_tokens(limit.get("context"))
    if context is None:
        return SKIP_NO_CONTEXT
    if not usable_model_part(model_id):
        return SKIP_BAD_ID
    status = str(model.get("status") or "")
    preview = status in ("beta", "alpha") or model.get("experimental") is True
    structured = model.get("structured_output") is True
    spec = build_spec(
        provider=provider,
        model_part=model_id,
        name=model.get("name") if isinstance(model.get("name"), str) else None,
        context_tokens=context,
        output_tokens=to_tokens(limit.get("output")),
        features=Features(
            inputs=frozenset(inputs),
            outputs=frozenset(outputs),
            function_calling=model.get("tool_call") is True,
            structured_output=structured,
            json_mode=structured,
            reasoning=model.get("reasoning") is True,
            prompt_caching=price.cache_read is not None,
        ),
        free=is_free(price),
        label=label,
        today=today,
        knowledge_cutoff=to_cutoff(model.get("knowledge")),
        release_date=_full_date(model.get("release_date")),
        status="deprecated" if status == "deprecated" else status_from(None, today, preview),
    )
    return spec, price


def _names(value: Any, default: set[str]) -> set[str]:
    return {str(v) for v in value} if isinstance(value, list) else set(default)


def _full_date(value: Any) -> date | None:
    return to_date(value) if isinstance(value, str) and len(value.strip()) == 10 else None


def _price(cost: Any) -> ModelPriceEntry | str:
    if not isinstance(cost, dict):
        return SKIP_NO_PRICE
    rates = {name: exact(cost.get(name)) for name in _RATES}
    return validated_price(rates, lambda: _tiers(cost, rates))


def _tiers(
    cost: Mapping[str, Any], base: Mapping[str, Decimal | None]
) -> tuple[PriceTierEntry, ...]:
    """``cost.tiers`` (context tiers only), else the legacy ``context_over_200k``."""
    found: dict[int, PriceTierEntry] = {}
    raw_tiers = cost.get("tiers")
    if isinstance(raw_tiers, list):
        for raw in raw_tiers:
            spec = raw.get("tier") if isinstance(raw, dict) else None
            if not isinstance(spec, dict) or spec.get("type", "context") != "context":
                continue
            size = to_tokens(spec.get("size"))
            tier = _tier(raw, size, base)
            if tier is not None and size is not None:
                found[size] = tier
    legacy = cost.get("context_over_200k")
    if not found and isinstance(legacy, dict):
        tier = _tier(legacy, _LEGACY_TIER_TOKENS, base)
        if tier is not None:
            found[_LEGACY_TIER_TOKENS] = tier
    return tuple(found[size] for size in sorted(found))


def _tier(
    raw: Mapping[str, Any], size: int | None, base: Mapping[str, Decimal | None]
) -> PriceTierEntry | None:
    given = {name: exact(raw.get(name)) for name in _RATES}
    if size is None or given["input"] is None or given["output"] is None:
        return None
    # A rate the tier does not list stays at the base rate, as with LiteLLM.
    rates = {name: base[name] if given[name] is None else given[name] for name in _RATES}
    if rates == dict(base):
        return None  # a tier at the base rates changes nothing
    stated = {k: v for k, v in rates.items() if v is not None}
    return PriceTierEntry.model_validate({"above_input_tokens": size, **stated})
