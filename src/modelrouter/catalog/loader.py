"""Load a catalog directory (models + pricing) and look models up by any of their names.

A catalog directory holds ``models/<provider>/*.yaml`` (one file per model) and
``pricing/<provider>.yaml``. Adding a model is adding one model file and one pricing entry.
"""

from __future__ import annotations

import difflib
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from modelrouter.catalog.pricing import (
    ModelPrice,
    PriceBook,
    PricingFile,
    parse_pricing_file,
)
from modelrouter.catalog.schema import ModelSpec
from modelrouter.errors import CatalogError, UnknownModelError

CATALOG_DIR_ENV = "MODELROUTER_CATALOG_DIR"

try:  # the C loader is ~10x faster; fall back quietly where libyaml is missing
    _YAML_LOADER: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _YAML_LOADER = yaml.SafeLoader


def bundled_catalog_dir() -> Path:
    return Path(__file__).resolve().parent / "data"


def dotted_location(location: Iterable[Any]) -> str:
    """A pydantic error location as a config path: ``tiers[1].input``."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not str(part).startswith("function-"):
            text += f".{part}" if text else str(part)
    return text


def describe_validation_error(exc: ValidationError, schema: str = "schema") -> str:
    """One clause per problem, each naming its field: ``metadata.name: Field required``."""
    parts = []
    for error in exc.errors():
        location = dotted_location(error["loc"])
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = f"unknown field (not part of the {schema}; check the spelling)"
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts)


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"cannot read: {exc.strerror}", file=str(path)) from None
    except UnicodeDecodeError:
        raise CatalogError("not UTF-8 text", file=str(path)) from None
    try:
        return yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogError(f"invalid YAML{where}: {problem}", file=str(path)) from None


def parse_model_file(path: Path, raw: Any | None = None) -> ModelSpec:
    """Validate one model file; an error names the file and the dotted field."""
    data = read_yaml(path) if raw is None else raw
    if not isinstance(data, dict):
        raise CatalogError("expected a mapping of model fields at the top level", file=str(path))
    try:
        spec = ModelSpec.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(describe_validation_error(exc), file=str(path)) from None
    if path.parent.name != spec.provider:
        raise CatalogError(
            f"provider is {spec.provider!r} but the file is in the {path.parent.name!r} folder",
            file=str(path),
            key="provider",
            hint=f"move it to models/{spec.provider}/",
        )
    return spec


@dataclass(frozen=True, slots=True)
class CatalogIssue:
    """A non-fatal finding of ``Catalog.check()``."""

    model: str
    message: str


class Catalog:
    """An immutable, indexed set of models and their prices."""

    __slots__ = ("_ambiguous", "_index", "_models", "directory", "prices")

    def __init__(
        self, models: Iterable[ModelSpec], prices: PriceBook, directory: Path | None = None
    ) -> None:
        self.directory = directory
        self.prices = prices
        self._models: dict[str, ModelSpec] = {}
        for spec in models:
            if spec.model_id in self._models:
                raise CatalogError(f"model_id {spec.model_id!r} is defined twice")
            self._models[spec.model_id] = spec
        self._index, self._ambiguous = _build_index(self._models.values())

    # ----------------------------------------------------------------- loading

    @classmethod
    def load(cls, directory: str | Path) -> Catalog:
        root = Path(directory)
        models_dir = root / "models"
        if not models_dir.is_dir():
            raise CatalogError(
                "not a catalog directory: no models/ folder inside",
                file=str(root),
                hint="a catalog holds models/<provider>/*.yaml and pricing/<provider>.yaml",
            )
        specs = [parse_model_file(p) for p in sorted(models_dir.glob("*/*.yaml"))]
        pricing_files: dict[str, PricingFile] = {}
        pricing_dir = root / "pricing"
        if pricing_dir.is_dir():
            for path in sorted(pricing_dir.glob("*.yaml")):
                pricing_files[path.stem] = parse_pricing_file(
                    str(path), read_yaml(path), path.stem
                )
        return cls(specs, PriceBook.from_files(pricing_files), root)

    # ----------------------------------------------------------------- lookup

    def __len__(self) -> int:
        return len(self._models)

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter(self._models.values())

    def __contains__(self, name: object) -> bool:
        return name in self._index or (isinstance(name, str) and name.lower() in self._index)

    @property
    def ids(self) -> list[str]:
        return list(self._models)

    def find(self, name: str) -> ModelSpec | None:
        """The model with this id, alias or api identifier, or None."""
        spec = self._index.get(name)
        if spec is None:
            spec = self._index.get(name.lower())
        return spec

    def get(self, name: str) -> ModelSpec:
        """The model with this id, alias or api identifier; UnknownModelError otherwise."""
        spec = self._index.get(name)
        if spec is not None:
            return spec
        spec = self._index.get(name.lower())
        if spec is not None:
            return spec
        raise self.unknown(name)

    def unknown(self, name: str) -> UnknownModelError:
        lowered = name.lower()
        if lowered in self._ambiguous:
            options = sorted(self._ambiguous[lowered])
            return UnknownModelError(
                name, options, reason=f"{name!r} names several models; use a full id"
            )
        # Match on the part after "provider:" too, so "gpt5" finds "openai:gpt-5".
        candidates: dict[str, str] = {}
        for key, spec in self._index.items():
            candidates.setdefault(key, spec.model_id)
        close = difflib.get_close_matches(lowered, list(candidates), n=6, cutoff=0.6)
        suggestions: list[str] = []
        for key in close:
            model_id = candidates[key]
            if model_id not in suggestions:
                suggestions.append(model_id)
        return UnknownModelError(name, suggestions[:3])

    # ----------------------------------------------------------------- prices

    def price(self, name: str, on: date | None = None) -> ModelPrice | None:
        spec = self.get(name)
        return self.prices.price(spec.pricing_ref, on)

    def check(self) -> list[CatalogIssue]:
        """Findings that do not stop loading: a model with no price, a price with no model."""
        issues: list[CatalogIssue] = []
        refs = set()
        for spec in self._models.values():
            refs.add(spec.pricing_ref)
            if spec.pricing_ref not in self.prices:
                issues.append(
                    CatalogIssue(
                        spec.model_id,
                        f"no pricing entry {spec.pricing_ref!r}: its cost will be 'unknown'",
                    )
                )
            elif spec.free:
                price = self.prices.price(spec.pricing_ref)
                if price is not None and not price.is_free:
                    issues.append(
                        CatalogIssue(spec.model_id, "marked free but its current price is not 0")
                    )
        for ref in self.prices.refs():
            if ref not in refs:
                issues.append(CatalogIssue(ref, "pricing entry used by no model"))
        return issues


def _build_index(
    specs: Iterable[ModelSpec],
) -> tuple[dict[str, ModelSpec], dict[str, set[str]]]:
    """One dict from every name to its model; names shared by several models are ambiguous."""
    owners: dict[str, set[str]] = {}
    by_id: dict[str, ModelSpec] = {}
    strong: dict[str, ModelSpec] = {}
    for spec in specs:
        by_id[spec.model_id] = spec
        strong[spec.model_id] = spec
        strong[spec.model_id.lower()] = spec
        for alias in spec.metadata.aliases:
            key = alias.lower()
            previous = strong.get(key)
            if previous is not None and previous.model_id != spec.model_id:
                raise CatalogError(
                    f"alias {alias!r} of {spec.model_id!r} is already a name of "
                    f"{previous.model_id!r}",
                    key="metadata.aliases",
                    hint="aliases must be unique across the catalog",
                )
            strong[alias] = spec
            strong[key] = spec
        for weak in (spec.metadata.api_identifier, spec.model_id.split(":", 1)[1]):
            owners.setdefault(weak.lower(), set()).add(spec.model_id)
    index = dict(strong)
    ambiguous: dict[str, set[str]] = {}
    for key, model_ids in owners.items():
        if key in strong:
            continue
        if len(model_ids) == 1:
            spec = by_id[next(iter(model_ids))]
            index[key] = spec
        else:
            ambiguous[key] = model_ids
    # Exact-case forms of unambiguous api identifiers.
    for spec in by_id.values():
        for weak in (spec.metadata.api_identifier, spec.model_id.split(":", 1)[1]):
            if weak.lower() in index and weak not in index:
                index[weak] = index[weak.lower()]
    return index, ambiguous


# --------------------------------------------------------------------------- default catalog

_default_lock = threading.Lock()
_default: Catalog | None = None


def default_catalog_dir() -> Path:
    override = os.environ.get(CATALOG_DIR_ENV)
    return Path(override) if override else bundled_catalog_dir()


REGISTRY_URL_ENV = "MODEL_REGISTRY_URL"
REGISTRY_KEY_ENV = "MODEL_REGISTRY_KEY"


def catalog_from_export(data: Any, source: str) -> Catalog:
    """A catalog from a gateway's ``GET /registry/catalog`` body, validated like files are."""
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise CatalogError("not a catalog export (expected 'models' and 'pricing')", file=source)
    specs = []
    for index, raw in enumerate(data["models"]):
        try:
            specs.append(ModelSpec.model_validate(raw))
        except ValidationError as exc:
            raise CatalogError(describe_validation_error(exc), file=source,
                               key=f"models[{index}]") from None
    files: dict[str, PricingFile] = {}
    pricing = data.get("pricing") or {}
    if not isinstance(pricing, dict):
        raise CatalogError("'pricing' must be an object", file=source, key="pricing")
    for provider, raw in pricing.items():
        files[provider] = parse_pricing_file(f"{source}#pricing.{provider}", raw, provider)
    return Catalog(specs, PriceBook.from_files(files), None)


def load_remote_catalog(url: str, api_key: str | None = None, timeout_s: float = 10.0
                        ) -> Catalog:
    """The catalog a running gateway serves (the seed's model-registry client)."""
    import json
    import urllib.error
    import urllib.request

    endpoint = url.rstrip("/") + "/registry/catalog"
    request = urllib.request.Request(endpoint, headers={"accept": "application/json"})
    if api_key:
        request.add_header("authorization", f"Bearer {api_key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise CatalogError(f"the registry answered {exc.code}", file=endpoint,
                           hint=f"check {REGISTRY_KEY_ENV}" if exc.code in (401, 403)
                           else None) from None
    except (urllib.error.URLError, OSError) as exc:
        raise CatalogError(f"cannot reach the registry: {exc}", file=endpoint) from None
    try:
        data = json.loads(body)
    except ValueError:
        raise CatalogError("the registry did not answer JSON", file=endpoint) from None
    return catalog_from_export(data, endpoint)


def get_catalog() -> Catalog:
    """The process-wide catalog, loaded on first use: from ``MODEL_REGISTRY_URL`` (a running
    gateway) when set, else ``MODELROUTER_CATALOG_DIR`` or the bundled files."""
    global _default
    catalog = _default
    if catalog is None:
        with _default_lock:
            if _default is None:
                remote = os.environ.get(REGISTRY_URL_ENV)
                _default = (load_remote_catalog(remote, os.environ.get(REGISTRY_KEY_ENV))
                            if remote else Catalog.load(default_catalog_dir()))
            catalog = _default
    return catalog


def reset_catalog() -> None:
    """Forget the loaded catalog so the next use reloads it (tests, catalog edits)."""
    global _default
    with _default_lock:
        _default = None
