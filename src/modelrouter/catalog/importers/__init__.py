"""Build catalog entries from LiteLLM, models.dev and OpenRouter data.

Each source has a pure parser (parsed JSON in, :class:`ImportResult` out);
:func:`import_source` adds the reading of a file or URL.

    result = import_source("litellm", "model_prices_and_context_window.json")
    plan = plan_import(result, load_baseline(Path("catalog")), today)
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection
from datetime import UTC, date, datetime
from typing import Any

from modelrouter.catalog.importers import litellm, models_dev, openrouter
from modelrouter.catalog.importers.common import (
    DEFAULT_TIMEOUT_S,
    SUPPORTED_PROVIDERS,
    Baseline,
    ImportedModel,
    ImportPlan,
    ImportResult,
    PriceChange,
    WriteSummary,
    check_providers,
    check_target,
    load_baseline,
    plan_import,
    read_json,
    source_name,
    write_catalog,
)
from modelrouter.errors import CatalogError

__all__ = [
    "SOURCES",
    "SUPPORTED_PROVIDERS",
    "Baseline",
    "ImportPlan",
    "ImportResult",
    "ImportedModel",
    "PriceChange",
    "WriteSummary",
    "check_source",
    "check_target",
    "import_source",
    "load_baseline",
    "parse_source",
    "plan_import",
    "today_utc",
    "write_catalog",
]

Parser = Callable[..., ImportResult]

#: Source name (as typed on the command line) → its parser.
SOURCES: dict[str, Parser] = {
    "litellm": litellm.parse_litellm,
    "models-dev": models_dev.parse_models_dev,
    "openrouter": openrouter.parse_openrouter,
}
_LABELS = {"litellm": litellm.LABEL, "models-dev": models_dev.LABEL, "openrouter": openrouter.LABEL}


def today_utc() -> date:
    return datetime.now(UTC).date()


def check_source(source: str) -> str:
    if source in SOURCES:
        return source
    close = difflib.get_close_matches(source.lower(), list(SOURCES), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise CatalogError(f"unknown source {source!r}: use one of {', '.join(SOURCES)}{hint}")


def parse_source(
    source: str,
    data: Any,
    *,
    name: str,
    today: date,
    providers: Collection[str] = (),
) -> ImportResult:
    """Entries from already-parsed JSON of ``source`` (pure); ``name`` labels provenance."""
    source = check_source(source)
    wanted = check_providers(providers)
    label = (
        models_dev.source_label(data, name)
        if source == "models-dev"
        else f"{_LABELS[source]}:{name}"
    )
    return SOURCES[source](data, label=label, today=today, providers=wanted)


def import_source(
    source: str,
    location: str,
    *,
    providers: Collection[str] = (),
    today: date | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> ImportResult:
    """Entries from the JSON at a file path or http(s) URL."""
    check_source(source)
    check_providers(providers)
    data = read_json(location, timeout_s=timeout_s)
    try:
        return parse_source(
            source, data, name=source_name(location), today=today or today_utc(),
            providers=providers,
        )
    except CatalogError as exc:
        if exc.file is not None:
            raise
        raise CatalogError(exc.message, file=location) from None
