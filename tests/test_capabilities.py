"""validate_capabilities and find_models on a small, known catalog."""

from __future__ import annotations

import warnings
from decimal import Decimal
from pathlib import Path

import pytest

from modelrouter.catalog.capabilities import find_models, parse_capabilities, validate_capabilities
from modelrouter.catalog.loader import Catalog
from modelrouter.catalog.schema import Capability
from modelrouter.errors import ConfigError, UnsupportedCapabilityError
from tests.helpers import model_doc, write_model, write_pricing

BASE = ["text_input", "text_output", "streaming"]


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    write_model(tmp_path, model_doc("acme:cheap", capabilities=BASE))
    write_model(tmp_path, model_doc("acme:tools", capabilities=[*BASE, "function_calling"]))
    write_model(
        tmp_path,
        model_doc("acme:vision", capabilities=[*BASE, "function_calling", "image_input"],
                  metadata={"context_window_input": 1_000_000}),
    )
    write_model(tmp_path, model_doc("acme:free", capabilities=[*BASE, "function_calling"],
                                    free=True))
    write_model(tmp_path, model_doc("acme:mystery", capabilities=[*BASE, "function_calling"]))
    write_pricing(tmp_path, "acme", [{"effective_date": "2025-01-01", "models": {
        "cheap": {"input": "0.1", "output": "0.4"},
        "tools": {"input": "1", "output": "4"},
        "vision": {"input": "2", "output": "8"},
        "free": {"input": "0", "output": "0"},
    }}])
    return Catalog.load(tmp_path)


def test_validate_raises_with_missing_list(catalog: Catalog) -> None:
    with pytest.raises(UnsupportedCapabilityError) as info:
        validate_capabilities("acme:cheap", ["function_calling", "image_input"], catalog=catalog)
    assert info.value.missing == ("function_calling", "image_input")
    assert info.value.http_status == 400


def test_validate_warn_only_returns_missing(catalog: Catalog) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        missing = validate_capabilities("acme:cheap", ["image_input"], warn_only=True,
                                        catalog=catalog)
    assert missing == [Capability.IMAGE_INPUT]
    assert "image_input" in str(caught[0].message)


def test_context_capabilities_are_derived(catalog: Catalog) -> None:
    assert validate_capabilities("acme:vision", ["extra_large_context", "large_context"],
                                 catalog=catalog) == []
    assert validate_capabilities("acme:tools", ["large_context"], catalog=catalog) == []
    with pytest.raises(UnsupportedCapabilityError):
        validate_capabilities("acme:tools", ["extra_large_context"], catalog=catalog)


def test_unknown_capability_name_suggests(catalog: Catalog) -> None:
    with pytest.raises(ConfigError, match="did you mean 'function_calling'"):
        parse_capabilities(["function-caling"])


def test_find_models_ranks_fit_then_price(catalog: Catalog) -> None:
    ids = [s.model_id for s in find_models(required=["function_calling"], catalog=catalog)]
    assert ids == ["acme:free", "acme:tools", "acme:vision", "acme:mystery"]
    preferred = find_models(required=["function_calling"], preferred=["image_input"],
                            catalog=catalog)
    assert preferred[0].model_id == "acme:vision"


def test_find_models_filters(catalog: Catalog) -> None:
    capped = find_models(max_price=Decimal("1.75"), catalog=catalog)
    assert [s.model_id for s in capped] == ["acme:free", "acme:cheap", "acme:tools"]
    assert [s.model_id for s in find_models(min_context=500_000, catalog=catalog)] == [
        "acme:vision"
    ]
    assert [s.model_id for s in find_models(free=True, catalog=catalog)] == ["acme:free"]
