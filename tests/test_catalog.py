"""Catalog files: strict schema, clear errors, lookup by every name, adding a model."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

import modelrouter
from modelrouter.catalog.loader import Catalog, bundled_catalog_dir, reset_catalog
from modelrouter.errors import CatalogError, UnknownModelError
from tests.helpers import model_doc, write_model, write_pricing


def _load_one(tmp_path: Path, doc: dict[str, object]) -> Catalog:
    write_model(tmp_path, doc)
    return Catalog.load(tmp_path)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"colour": "red"}, "colour: unknown field"),
        ({"metadata": {"context_window_input": "lots"}}, "metadata.context_window_input"),
        ({"metadata": {"context_window_input": 0}}, "metadata.context_window_input"),
        ({"metadata": {"nmae": "x"}}, "metadata.nmae: unknown field"),
        ({"capabilities": ["text_input", "telepathy"]}, "capabilities[1]"),
        ({"capabilities": ["text_input", "text_input"]}, "listed twice"),
        ({"speed_class": "ludicrous"}, "speed_class"),
        ({"model_id": "acme-no-colon"}, "must look like 'provider:model'"),
        ({"model_id": "other:thing"}, "provider is 'acme'"),
        ({"capabilities": ["extra_large_context"]}, "extra_large_context needs at least"),
        ({"metadata": {"knowledge_cutoff": "last year"}}, "knowledge_cutoff"),
        ({"pricing_ref": "nothing"}, "pricing_ref"),
    ],
)
def test_invalid_model_file_names_file_and_field(
    tmp_path: Path, change: dict[str, object], expected: str
) -> None:
    doc = model_doc("acme:m1")
    for key, value in change.items():
        if key == "metadata":
            doc["metadata"].update(value)  # type: ignore[arg-type]
        else:
            doc[key] = value
    path = write_model(tmp_path, doc, filename="m1.yaml")
    with pytest.raises(CatalogError) as info:
        Catalog.load(tmp_path)
    message = str(info.value)
    assert str(path) in message
    assert expected in message


def test_missing_required_field(tmp_path: Path) -> None:
    doc = model_doc("acme:m1")
    del doc["metadata"]["last_verified"]
    write_model(tmp_path, doc)
    with pytest.raises(CatalogError, match=r"metadata\.last_verified: Field required"):
        Catalog.load(tmp_path)


def test_invalid_yaml_reports_line(tmp_path: Path) -> None:
    folder = tmp_path / "models" / "acme"
    folder.mkdir(parents=True)
    (folder / "bad.yaml").write_text("model_id: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"bad\.yaml: invalid YAML at line"):
        Catalog.load(tmp_path)


def test_model_in_wrong_provider_folder(tmp_path: Path) -> None:
    doc = model_doc("acme:m1")
    folder = tmp_path / "models" / "other"
    folder.mkdir(parents=True)
    (folder / "m1.yaml").write_text(__import__("yaml").safe_dump(doc), encoding="utf-8")
    with pytest.raises(CatalogError, match="move it to models/acme/"):
        Catalog.load(tmp_path)


def test_not_a_catalog_dir(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no models/ folder"):
        Catalog.load(tmp_path)


def test_duplicate_alias_is_rejected(tmp_path: Path) -> None:
    write_model(tmp_path, model_doc("acme:a", metadata={"aliases": ["shared"]}))
    write_model(tmp_path, model_doc("acme:b", metadata={"aliases": ["shared"]}))
    with pytest.raises(CatalogError, match="alias 'shared'"):
        Catalog.load(tmp_path)


def test_lookup_by_id_alias_and_api_identifier(tmp_path: Path) -> None:
    write_model(
        tmp_path,
        model_doc("acme:writer-2", metadata={"aliases": ["scribe"], "api_identifier": "wr-2-0611"}),
    )
    catalog = Catalog.load(tmp_path)
    for name in ("acme:writer-2", "scribe", "SCRIBE", "wr-2-0611", "writer-2", "ACME:Writer-2"):
        assert catalog.get(name).model_id == "acme:writer-2", name


def test_unknown_model_suggests_close_names(tmp_path: Path) -> None:
    write_model(tmp_path, model_doc("acme:writer-2"))
    catalog = Catalog.load(tmp_path)
    with pytest.raises(UnknownModelError) as info:
        catalog.get("acme:writer-3")
    assert info.value.suggestions == ("acme:writer-2",)
    assert "did you mean 'acme:writer-2'?" in str(info.value)
    assert info.value.to_openai_body()["error"]["code"] == "model_not_found"
    assert info.value.http_status == 404


def test_shared_api_identifier_is_ambiguous_not_a_guess(tmp_path: Path) -> None:
    write_model(tmp_path, model_doc("acme:llama", metadata={"api_identifier": "llama-70b"}))
    write_model(tmp_path, model_doc("zeta:llama", metadata={"api_identifier": "llama-70b"}))
    catalog = Catalog.load(tmp_path)
    with pytest.raises(UnknownModelError, match="names several models") as info:
        catalog.get("llama-70b")
    assert set(info.value.suggestions) == {"acme:llama", "zeta:llama"}
    assert catalog.get("acme:llama").provider == "acme"


def test_adding_a_model_is_one_yaml_file_and_one_price(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole contract of 'adding a model': nothing else needs to change."""
    root = tmp_path / "catalog"
    shutil.copytree(bundled_catalog_dir(), root)
    before = len(Catalog.load(root))
    write_model(root, model_doc("newco:falcon-9", metadata={"aliases": ["falcon"]}))
    write_pricing(root, "newco", [{"effective_date": "2026-11-01",
                                   "models": {"falcon-9": {"input": "0.2", "output": "0.8"}}}])
    monkeypatch.setenv("MODELROUTER_CATALOG_DIR", str(root))
    reset_catalog()
    assert len(modelrouter.get_catalog()) == before + 1
    assert modelrouter.get_model("falcon").model_id == "newco:falcon-9"
    cost = modelrouter.calculate_cost("falcon", modelrouter.Usage(1_000_000, 1_000_000))
    assert cost.total == Decimal("1.0")
    found = modelrouter.find_models(required=["streaming"], max_price="0.35")
    assert "newco:falcon-9" in [s.model_id for s in found]


def test_bundled_catalog_loads_and_resolves_reference_model() -> None:
    catalog = Catalog.load(bundled_catalog_dir())
    assert catalog.get("claude-sonnet-4-5").model_id == "anthropic:claude-sonnet-4-5"
    assert not [i for i in catalog.check() if "unknown" in i.message]
