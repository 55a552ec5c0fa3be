"""The seed's usage API, kept: ``record_model_usage`` and ``get_usage_summary``.

Both use the default ledger (``open_ledger()``: ``MODELROUTER_DATABASE_URL`` or the SQLite file
in the user data directory), opened once per URL and shared by the process.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from modelrouter.catalog.pricing import Usage, price_usage
from modelrouter.errors import RouterError
from modelrouter.routing.records import AttemptRecord
from modelrouter.usage.ledger import Ledger, open_ledger, resolve_url
from modelrouter.usage.summary import summarize

UNKNOWN_TIER = "unknown"

_ledgers: dict[str, Ledger] = {}
_ledgers_lock = threading.Lock()


def default_ledger() -> Ledger:
    """The process-wide ledger for the URL in effect now (opened on first use)."""
    url = resolve_url()
    with _ledgers_lock:
        ledger = _ledgers.get(url)
        if ledger is None:
            ledger = _ledgers[url] = open_ledger(url)
        return ledger


def close_default_ledgers() -> None:
    """Close every ledger ``default_ledger()`` opened (tests, interpreter shutdown)."""
    with _ledgers_lock:
        for ledger in _ledgers.values():
            ledger.close()
        _ledgers.clear()


def record_model_usage(
    model: str, tokens_used: int, success: bool, *, ledger: Ledger | None = None
) -> AttemptRecord:
    """Record one call the seed way: a model, its total tokens, whether it worked.

    The seed kept no input/output split: the tokens are stored as 3/4 input, 1/4 output (the
    split behind the catalog's blended price) and priced exactly; an unknown model costs None.
    """
    if type(tokens_used) is not int or tokens_used < 0:
        raise ValueError(f"tokens_used must be a whole number ≥ 0, got {tokens_used!r}")
    prompt = tokens_used * 3 // 4
    usage = Usage(input_tokens=prompt, output_tokens=tokens_used - prompt)
    model_id, provider, tier, cost = _describe(model, usage)
    record = AttemptRecord(
        request_id=uuid.uuid4().hex, time=datetime.now(UTC), model=model_id,
        provider=provider, tier=tier, outcome="success" if success else "error",
        fallback_depth=0, free=cost == 0, usage=usage,
        cost_usd=cost,
    )
    (ledger or default_ledger()).record(record)
    return record


def _describe(model: str, usage: Usage) -> tuple[str, str, str, Decimal | None]:
    from modelrouter.catalog.loader import get_catalog

    catalog = get_catalog()
    spec = catalog.find(model)
    if spec is None:
        provider = model.partition(":")[0] if ":" in model else "unknown"
        return model, provider, UNKNOWN_TIER, None
    price = catalog.prices.price(spec.pricing_ref)
    cost = None if price is None else price_usage(price, usage, spec.model_id).total
    return spec.model_id, spec.provider, _tier_of(spec.model_id), cost


def _tier_of(model_id: str) -> str:
    try:
        from modelrouter.config import load_config

        config = load_config()
    except RouterError:  # a broken config file must not lose the usage row
        return UNKNOWN_TIER
    for name, settings in config.tiers.items():
        if model_id in settings.models:
            return name
    return UNKNOWN_TIER


def get_usage_summary(
    *, ledger: Ledger | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """``{"today": {...}, "this_month": {...}, "total_models": n}`` as the seed returned it.

    ``today`` and ``this_month`` (UTC) each hold ``requests``, ``tokens`` and ``cost``
    (``Decimal``, exact); ``total_models`` is how many distinct models were ever recorded.
    """
    book = ledger or default_ledger()
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    day_start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    month_start = day_start.replace(day=1)
    month_rows = book.records(month_start, None)
    today_rows = [r for r in month_rows if r.time >= day_start]
    return {
        "today": _figures(today_rows),
        "this_month": _figures(month_rows),
        "total_models": len(book.models()),
    }


def _figures(rows: list[AttemptRecord]) -> dict[str, Any]:
    total = summarize(rows, "day").total
    return {"requests": total.requests, "tokens": total.tokens, "cost": total.cost_usd}


__all__ = [
    "close_default_ledgers",
    "default_ledger",
    "get_usage_summary",
    "record_model_usage",
]
