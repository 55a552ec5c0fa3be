"""What every importer shares: the imported record, conversions, reading, diffing and writing.

An importer turns one source document into an :class:`ImportResult`: catalog entries (a
``ModelSpec``-valid document plus a price entry in USD per million tokens) and a count of what
it skipped and why. Everything here is pure except :func:`read_json`, :func:`load_baseline`
and :func:`write_catalog`, the thin I/O shell.
"""

from __future__ import annotations

import difflib
import json
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from modelrouter.catalog.loader import Catalog, describe_validation_error, read_yaml
from modelrouter.catalog.pricing import (
    ModelPriceEntry,
    PriceBook,
    PriceTierEntry,
    PricingFile,
    PricingVersionEntry,
    parse_pricing_file,
)
from modelrouter.catalog.schema import (
    EXTRA_LARGE_CONTEXT_TOKENS,
    LARGE_CONTEXT_TOKENS,
    MODEL_ID_PATTERN,
    Capability,
    ModelSpec,
)
from modelrouter.errors import CatalogError

#: Providers the catalog covers; entries of any other provider are counted, not imported.
SUPPORTED_PROVIDERS = (
    "anthropic", "cohere", "deepseek", "google", "groq", "mistral", "openai", "openrouter",
)

MILLION = Decimal(1_000_000)
DEFAULT_TIMEOUT_S = 30.0
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024

# Skip reasons: the keys of ImportResult.skipped (and of `--json` "skipped").
SKIP_NOT_A_MODEL = "not a model entry"
SKIP_NOT_CHAT = "not a chat model"
SKIP_NO_TEXT_OUTPUT = "no text output"
SKIP_UNSUPPORTED_PROVIDER = "unsupported provider"
SKIP_FILTERED = "other provider (--provider)"
SKIP_NO_PRICE = "no price"
SKIP_DYNAMIC_PRICE = "dynamic price (router)"
SKIP_NEGATIVE_PRICE = "negative price"
SKIP_NO_CONTEXT = "no context window"
SKIP_DUPLICATE = "duplicate id"
SKIP_BAD_ID = "id not usable as a model id"
SKIP_INVALID = "fails the model schema"
SKIP_ALIAS = "alias of a catalog model"


def validated_price(
    rates: Mapping[str, Decimal | None],
    tiers: Callable[[], tuple[PriceTierEntry, ...]],
) -> ModelPriceEntry | str:
    """A price entry from a source's rates, or the skip reason when it has none or a bad one."""
    if rates["input"] is None or rates["output"] is None:
        return SKIP_NO_PRICE
    try:
        stated = {k: v for k, v in rates.items() if v is not None}
        return ModelPriceEntry.model_validate({**stated, "tiers": tiers()})
    except ValidationError:  # the only constraint a source can break: prices >= 0
        return SKIP_NEGATIVE_PRICE


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class ImportedModel:
    """One catalog entry: the model file's document and its current price."""

    spec: dict[str, Any]
    price: ModelPriceEntry

    @property
    def model_id(self) -> str:
        return str(self.spec["model_id"])

    @property
    def provider(self) -> str:
        return str(self.spec["provider"])

    @property
    def pricing_ref(self) -> str:
        return str(self.spec["pricing_ref"])

    @property
    def file_name(self) -> str:
        return model_file_name(self.model_id.split(":", 1)[1])


@dataclass(slots=True)
class ImportResult:
    """What one import produced: entries in source order, and skip counts by reason."""

    source: str
    models: list[ImportedModel] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    _priority: dict[str, int] = field(default_factory=dict, repr=False)
    _position: dict[str, int] = field(default_factory=dict, repr=False)

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    def add(self, spec: dict[str, Any], price: ModelPriceEntry, *, priority: int = 0) -> None:
        """Keep a validated entry; of two with one id, the higher ``priority`` wins."""
        try:
            ModelSpec.model_validate(spec)
        except ValidationError:
            self.skip(SKIP_INVALID)
            return
        model = ImportedModel(spec, price)
        previous = self._position.get(model.model_id)
        if previous is None:
            self._position[model.model_id] = len(self.models)
            self._priority[model.model_id] = priority
            self.models.append(model)
            return
        self.skip(SKIP_DUPLICATE)
        if priority > self._priority[model.model_id]:
            self.models[previous] = model
            self._priority[model.model_id] = priority


def model_file_name(model_part: str) -> str:
    """``meta-llama/llama-3.3-70b:free`` → ``meta-llama--llama-3.3-70b--free.yaml``."""
    return model_part.replace("/", "--").replace(":", "--") + ".yaml"


def check_providers(providers: Collection[str]) -> frozenset[str]:
    """The ``--provider`` filter, each name checked against the supported providers."""
    unknown = sorted(p for p in providers if p not in SUPPORTED_PROVIDERS)
    if unknown:
        name = unknown[0]
        close = difflib.get_close_matches(name, SUPPORTED_PROVIDERS, n=1, cutoff=0.6)
        guess = _PROVIDER_SYNONYMS.get(name) or (close[0] if close else None)
        raise CatalogError(
            f"unknown provider {name!r}; supported: {', '.join(SUPPORTED_PROVIDERS)}",
            key="--provider",
            hint=f"did you mean {guess!r}?" if guess else None,
        )
    return frozenset(providers)


# Source-specific names people type for our providers.
_PROVIDER_SYNONYMS = {"gemini": "google", "cohere_chat": "cohere"}


# --------------------------------------------------------------------------- conversions


def as_mapping(value: Any) -> dict[str, Any]:
    """A JSON object, or an empty one for anything else (sources leave fields out or null)."""
    return value if isinstance(value, dict) else {}


def to_decimal(value: Any) -> Decimal | None:
    """An exact Decimal from a JSON number or numeric string; floats via ``repr``, never math."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, (int, str, Decimal)):
        try:
            result = Decimal(value)
        except (InvalidOperation, ValueError):
            return None
        return result if result.is_finite() else None
    return None


def plain(value: Decimal) -> Decimal:
    """The same amount without trailing zeros or an exponent: ``3.000000`` → ``3``."""
    return Decimal(format(value.normalize(), "f"))


def per_million(per_token: Any) -> Decimal | None:
    """A per-token price (``3e-06`` or ``"0.000003"``) as USD per million tokens (``3``)."""
    amount = to_decimal(per_token)
    return None if amount is None else plain(amount * MILLION)


def exact(per_million_value: Any) -> Decimal | None:
    """A per-million price as given (models.dev), made exact and plain."""
    amount = to_decimal(per_million_value)
    return None if amount is None else plain(amount)


def to_tokens(value: Any) -> int | None:
    """A positive whole token count, or None."""
    amount = to_decimal(value)
    if amount is None or amount != amount.to_integral_value() or amount <= 0:
        return None
    return int(amount)


def to_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def to_cutoff(value: Any) -> str | None:
    """A knowledge cutoff as ``YYYY-MM`` or ``YYYY-MM-DD`` (the schema's forms), or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()[:10]
    if len(text) == 7 and to_date(text + "-01") is not None:
        return text
    return text if len(text) == 10 and to_date(text) is not None else None


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True, slots=True)
class Features:
    """What a source says a model does; mapped to capabilities by :func:`capabilities_for`."""

    inputs: frozenset[str] = frozenset({"text"})
    outputs: frozenset[str] = frozenset({"text"})
    function_calling: bool = False
    structured_output: bool = False
    json_mode: bool = False
    reasoning: bool = False
    prompt_caching: bool = False
    batch_api: bool = False
    # Chat APIs of every supported provider stream and take a system message unless a
    # source says otherwise.
    streaming: bool = True
    system_messages: bool = True


_INPUT_CAPABILITIES = {
    "text": Capability.TEXT_INPUT,
    "image": Capability.IMAGE_INPUT,
    "audio": Capability.AUDIO_INPUT,
    "video": Capability.VIDEO_INPUT,
    "pdf": Capability.DOCUMENT_INPUT,
    "file": Capability.DOCUMENT_INPUT,
}
_OUTPUT_CAPABILITIES = {"text": Capability.TEXT_OUTPUT, "image": Capability.IMAGE_OUTPUT}


def capabilities_for(features: Features, context_tokens: int) -> list[str]:
    """Capability names in the enum's order, including the context-size ones."""
    caps = {_INPUT_CAPABILITIES[m] for m in features.inputs if m in _INPUT_CAPABILITIES}
    caps |= {_OUTPUT_CAPABILITIES[m] for m in features.outputs if m in _OUTPUT_CAPABILITIES}
    flags = {
        Capability.FUNCTION_CALLING: features.function_calling,
        Capability.STRUCTURED_OUTPUT: features.structured_output,
        Capability.JSON_MODE: features.json_mode,
        Capability.EXTENDED_THINKING: features.reasoning,
        Capability.PROMPT_CACHING: features.prompt_caching,
        Capability.BATCH_API: features.batch_api,
        Capability.STREAMING: features.streaming,
        Capability.SYSTEM_MESSAGES: features.system_messages,
        Capability.LARGE_CONTEXT: context_tokens > LARGE_CONTEXT_TOKENS,
        Capability.EXTRA_LARGE_CONTEXT: context_tokens >= EXTRA_LARGE_CONTEXT_TOKENS,
    }
    caps |= {capability for capability, present in flags.items() if present}
    return [c.value for c in Capability if c in caps]


def build_spec(
    *,
    provider: str,
    model_part: str,
    name: str | None,
    context_tokens: int,
    output_tokens: int | None,
    features: Features,
    free: bool,
    label: str,
    today: date,
    knowledge_cutoff: str | None = None,
    release_date: date | None = None,
    deprecation_date: date | None = None,
    status: str = "active",
    model_page: str | None = None,
    pricing_page: str | None = None,
) -> dict[str, Any]:
    """A model file's document; None and empty fields are left out."""
    notes: list[str] = []
    if output_tokens is None:
        output_tokens = context_tokens
        notes.append("no output limit in the source: context_window_output = context window")
    metadata: dict[str, Any] = {
        "name": (name or "").strip() or model_part,
        "api_identifier": model_part,
        "context_window_input": context_tokens,
        "context_window_output": output_tokens,
        "knowledge_cutoff": knowledge_cutoff,
        "release_date": release_date,
        "deprecation_date": deprecation_date,
        "last_verified": today,
    }
    documentation = {"model_page": model_page, "pricing_page": pricing_page}
    provenance: dict[str, Any] = {"specs": label, "pricing": label}
    if notes:
        provenance["notes"] = notes
    doc: dict[str, Any] = {
        "model_id": f"{provider}:{model_part}",
        "provider": provider,
        "metadata": {k: v for k, v in metadata.items() if v is not None},
        "capabilities": capabilities_for(features, context_tokens),
        "pricing_ref": f"{provider}/{model_part}",
        "documentation": {k: v for k, v in documentation.items() if v},
        "free": free,
        "provenance": provenance,
        "status": status,
    }
    if not doc["documentation"]:
        del doc["documentation"]
    return doc


def usable_model_part(model_part: str) -> bool:
    return MODEL_ID_PATTERN.match(f"x:{model_part}") is not None


def status_from(deprecation: date | None, today: date, preview: bool = False) -> str:
    if deprecation is not None and deprecation <= today:
        return "deprecated"
    return "preview" if preview else "active"


def is_free(price: ModelPriceEntry) -> bool:
    return price.input == 0 and price.output == 0 and not price.tiers


# --------------------------------------------------------------------------- reading


def is_url(location: str) -> bool:
    return urllib.parse.urlsplit(location).scheme in ("http", "https")


def source_name(location: str) -> str:
    """The file name of a path or URL, for provenance labels."""
    if is_url(location):
        path = urllib.parse.urlsplit(location).path.rstrip("/")
        return path.rsplit("/", 1)[-1] or urllib.parse.urlsplit(location).netloc
    return Path(location).name


def read_json(location: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> Any:
    """The parsed JSON at a file path or http(s) URL; numbers with a fraction become Decimal."""
    raw = _download(location, timeout_s) if is_url(location) else _read_file(location)
    try:
        return json.loads(raw, parse_float=Decimal)
    except UnicodeDecodeError:
        raise CatalogError("not UTF-8 JSON text", file=location) from None
    except json.JSONDecodeError as exc:
        raise CatalogError(
            f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})",
            file=location,
        ) from None


def _read_file(location: str) -> bytes:
    if "://" in location:
        raise CatalogError("only http:// and https:// URLs can be read", file=location)
    path = Path(location)
    if path.is_dir():
        raise CatalogError("is a directory, expected a JSON file", file=location)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CatalogError("no such file", file=location) from None
    except OSError as exc:
        raise CatalogError(f"cannot read: {exc.strerror or exc}", file=location) from None


def _download(url: str, timeout_s: float) -> bytes:
    request = urllib.request.Request(
        url, headers={"User-Agent": "modelrouter-catalog-import", "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body: bytes = response.read(MAX_DOWNLOAD_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise CatalogError(f"download failed: HTTP {exc.code} {exc.reason}", file=url) from None
    except urllib.error.URLError as exc:
        raise CatalogError(f"download failed: {exc.reason}", file=url) from None
    except TimeoutError:
        raise CatalogError(f"download timed out after {timeout_s:g} s", file=url) from None
    except (OSError, ValueError) as exc:
        raise CatalogError(f"download failed: {exc}", file=url) from None
    if len(body) > MAX_DOWNLOAD_BYTES:
        raise CatalogError(f"larger than {MAX_DOWNLOAD_BYTES // 2**20} MiB", file=url)
    return body


# --------------------------------------------------------------------------- diffing


@dataclass(frozen=True, slots=True)
class PriceChange:
    """One price field of one model, before and after (USD per million tokens)."""

    model: str
    field: str
    old: Decimal | None
    new: Decimal | None

    @property
    def change_pct(self) -> Decimal | None:
        if self.old is None or self.new is None or self.old == 0:
            return None
        return ((self.new - self.old) * 100 / self.old).quantize(Decimal("0.01"))

    def to_dict(self) -> dict[str, Any]:
        pct = self.change_pct
        return {
            "model": self.model,
            "field": self.field,
            "old": None if self.old is None else str(self.old),
            "new": None if self.new is None else str(self.new),
            # A ratio, not money: a JSON number for scripts to sort and filter on.
            "change_pct": None if pct is None else float(pct),
        }


@dataclass(slots=True)
class Baseline:
    """The catalog an import is compared with (and merged into when it is the target)."""

    directory: Path | None = None
    specs: list[ModelSpec] = field(default_factory=list)
    pricing: dict[str, PricingFile] = field(default_factory=dict)

    def ref_of(self) -> dict[str, str]:
        return {spec.model_id: spec.pricing_ref for spec in self.specs}

    def alias_index(self) -> dict[str, str]:
        """``provider:alias`` (lower case) → model id, for names that belong to one model."""
        owners: dict[str, set[str]] = {}
        for spec in self.specs:
            for name in (spec.metadata.api_identifier, *spec.metadata.aliases):
                owners.setdefault(f"{spec.provider}:{name}".lower(), set()).add(spec.model_id)
        return {name: next(iter(ids)) for name, ids in owners.items() if len(ids) == 1}

    def current_entry(self, pricing_ref: str, on: date) -> ModelPriceEntry | None:
        """The explicit price entry in force on ``on`` (None: no price, or retired)."""
        provider, _, key = pricing_ref.partition("/")
        pricing_file = self.pricing.get(provider)
        if pricing_file is None:
            return None
        found: ModelPriceEntry | None = None
        for version in sorted(pricing_file.pricing_versions, key=lambda v: v.effective_date):
            if version.effective_date <= on and key in version.models:
                found = version.models[key]
        return found


def load_baseline(directory: Path) -> Baseline:
    """A catalog directory as a baseline; the same errors as ``Catalog.load``."""
    catalog = Catalog.load(directory)
    pricing: dict[str, PricingFile] = {}
    pricing_dir = directory / "pricing"
    if pricing_dir.is_dir():
        for path in sorted(pricing_dir.glob("*.yaml")):
            pricing[path.stem] = parse_pricing_file(str(path), read_yaml(path), path.stem)
    return Baseline(directory, list(catalog), pricing)


def effective_fields(entry: ModelPriceEntry | None) -> dict[str, Decimal]:
    """Every rate an entry charges, with the loader's defaults (cache = input, ...)."""
    if entry is None:
        return {}
    fields = {
        "input": entry.input,
        "output": entry.output,
        "cache_read": entry.input if entry.cache_read is None else entry.cache_read,
        "cache_write": entry.input if entry.cache_write is None else entry.cache_write,
        "reasoning": entry.output if entry.reasoning is None else entry.reasoning,
    }
    for tier in entry.tiers:
        prefix = f"tiers.{tier.above_input_tokens}"
        fields[f"{prefix}.input"] = tier.input
        fields[f"{prefix}.output"] = tier.output
        fields[f"{prefix}.cache_read"] = tier.input if tier.cache_read is None else tier.cache_read
        fields[f"{prefix}.cache_write"] = (
            tier.input if tier.cache_write is None else tier.cache_write
        )
        fields[f"{prefix}.reasoning"] = tier.output if tier.reasoning is None else tier.reasoning
    return {name: plain(value) for name, value in fields.items()}


def merge_entry(imported: ModelPriceEntry, current: ModelPriceEntry | None) -> ModelPriceEntry:
    """The imported price; rates the source does not state are kept from ``current``."""
    if current is None:
        return imported
    return imported.model_copy(
        update={
            "cache_read": (
                current.cache_read if imported.cache_read is None else imported.cache_read
            ),
            "cache_write": (
                current.cache_write if imported.cache_write is None else imported.cache_write
            ),
            "reasoning": current.reasoning if imported.reasoning is None else imported.reasoning,
            "tiers": imported.tiers or current.tiers,
        }
    )


@dataclass(slots=True)
class ImportPlan:
    """What an import would change: the report, and the files' new content."""

    added: list[ImportedModel] = field(default_factory=list)
    changed: list[PriceChange] = field(default_factory=list)
    unchanged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    # pricing_ref → the entry to record today (new or changed prices only).
    prices: dict[str, ModelPriceEntry] = field(default_factory=dict)

    @property
    def changed_models(self) -> list[str]:
        return list(dict.fromkeys(change.model for change in self.changed))

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": [model.model_id for model in self.added],
            "changed": [change.to_dict() for change in self.changed],
            "unchanged": self.unchanged,
            "skipped": dict(sorted(self.skipped.items())),
        }


def plan_import(result: ImportResult, baseline: Baseline, on: date) -> ImportPlan:
    """Compare an import with a baseline catalog (pure)."""
    plan = ImportPlan(skipped=dict(result.skipped))
    refs = baseline.ref_of()
    aliases = baseline.alias_index()
    imported = {model.model_id for model in result.models}
    compared: set[str] = set()
    for model in result.models:
        target = model.model_id if model.model_id in refs else None
        # A dated id the catalog keeps as an alias ("claude-sonnet-4-5-20250929") is that
        # model, compared once: under its own id when the source has that too.
        canonical = None if target else aliases.get(model.model_id.lower())
        if canonical is not None:
            if canonical in imported or canonical in compared:
                plan.skipped[SKIP_ALIAS] = plan.skipped.get(SKIP_ALIAS, 0) + 1
                continue
            target = canonical
        if target is None:
            plan.added.append(model)
            current = baseline.current_entry(model.pricing_ref, on)
            merged = merge_entry(model.price, current)
            if current is None or effective_fields(current) != effective_fields(merged):
                plan.prices[model.pricing_ref] = merged
            continue
        compared.add(target)
        ref = refs[target]
        current = baseline.current_entry(ref, on)
        merged = merge_entry(model.price, current)
        old, new = effective_fields(current), effective_fields(merged)
        if old == new:
            plan.unchanged += 1
            continue
        plan.prices[ref] = merged
        # Rates that merely follow another (cache_write = input when unstated) add noise.
        shown = stated_fields(current) | stated_fields(merged)
        for name in dict.fromkeys([*new, *old]):
            if name in shown and old.get(name) != new.get(name):
                plan.changed.append(PriceChange(target, name, old.get(name), new.get(name)))
    return plan


def stated_fields(entry: ModelPriceEntry | None) -> set[str]:
    """The names in :func:`effective_fields` that the entry states rather than defaults."""
    if entry is None:
        return set()
    optional = ("cache_read", "cache_write", "reasoning")
    names = {"input", "output"} | {n for n in optional if getattr(entry, n) is not None}
    for tier in entry.tiers:
        prefix = f"tiers.{tier.above_input_tokens}"
        names |= {f"{prefix}.input", f"{prefix}.output"}
        names |= {f"{prefix}.{n}" for n in optional if getattr(tier, n) is not None}
    return names


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True, slots=True)
class WriteSummary:
    directory: Path
    model_files: int
    pricing_files: int
    effective_date: date

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "model_files": self.model_files,
            "pricing_files": self.pricing_files,
            "effective_date": self.effective_date.isoformat(),
        }


def check_target(directory: Path) -> bool:
    """True if ``directory`` already holds a catalog; an error if it must not be written."""
    if directory.exists() and not directory.is_dir():
        raise CatalogError("exists and is not a directory", file=str(directory))
    if not directory.exists():
        return False
    if (directory / "models").is_dir():
        return True
    if any(directory.iterdir()):
        raise CatalogError(
            "not empty and not a catalog (no models/ folder); refusing to write into it",
            file=str(directory),
            hint="pick a new or empty directory, or an existing catalog directory",
        )
    return False


def write_catalog(
    plan: ImportPlan, baseline: Baseline, directory: Path, *, label: str, today: date
) -> WriteSummary:
    """Write the plan into ``directory``: new model files, and a pricing version dated today.

    Existing model files are never rewritten. Everything is built and validated in memory
    first; then each file is replaced atomically (temp file, fsync, rename).
    """
    check_target(directory)
    model_files = _model_files(plan, directory)
    pricing = _pricing_files(plan, baseline, label, today)
    _validate_whole(baseline, plan, pricing)
    (directory / "models").mkdir(parents=True, exist_ok=True)
    for path, doc in model_files.items():
        atomic_write_text(path, dump_yaml(doc))
    for provider, pricing_file in pricing.items():
        atomic_write_text(
            directory / "pricing" / f"{provider}.yaml", dump_yaml(pricing_doc(pricing_file))
        )
    return WriteSummary(directory, len(model_files), len(pricing), today)


def _model_files(plan: ImportPlan, directory: Path) -> dict[Path, dict[str, Any]]:
    files: dict[Path, dict[str, Any]] = {}
    for model in plan.added:
        path = directory / "models" / model.provider / model.file_name
        if path.exists() or path in files:
            raise CatalogError(
                f"would overwrite a file that defines another model than {model.model_id!r}",
                file=str(path),
            )
        files[path] = model.spec
    return files


def _pricing_files(
    plan: ImportPlan, baseline: Baseline, label: str, today: date
) -> dict[str, PricingFile]:
    by_provider: dict[str, dict[str, ModelPriceEntry]] = {}
    for ref, entry in plan.prices.items():
        provider, _, key = ref.partition("/")
        by_provider.setdefault(provider, {})[key] = entry
    result: dict[str, PricingFile] = {}
    for provider, entries in sorted(by_provider.items()):
        existing = baseline.pricing.get(provider)
        versions = list(existing.pricing_versions) if existing else []
        same_day = next((v for v in versions if v.effective_date == today), None)
        if same_day is None:
            versions.append(
                PricingVersionEntry(
                    effective_date=today, source=label, models=dict(sorted(entries.items()))
                )
            )
        else:
            if same_day.source != label:
                entries = {k: e.model_copy(update={"source": label}) for k, e in entries.items()}
            merged = same_day.model_copy(update={"models": {**same_day.models, **entries}})
            versions[versions.index(same_day)] = merged
        versions.sort(key=lambda v: v.effective_date)
        result[provider] = PricingFile(provider=provider, pricing_versions=tuple(versions))
    return result


def _validate_whole(
    baseline: Baseline, plan: ImportPlan, pricing: Mapping[str, PricingFile]
) -> None:
    specs = [*baseline.specs, *(ModelSpec.model_validate(m.spec) for m in plan.added)]
    files = {**baseline.pricing, **pricing}
    for provider, pricing_file in pricing.items():
        try:
            PricingFile.model_validate(pricing_doc(pricing_file))
        except ValidationError as exc:
            raise CatalogError(
                describe_validation_error(exc), file=f"pricing/{provider}.yaml"
            ) from None
    Catalog(specs, PriceBook.from_files(files))


def pricing_doc(pricing_file: PricingFile) -> dict[str, Any]:
    """A pricing file as plain YAML-ready data (prices as exact strings)."""
    versions = []
    for version in pricing_file.pricing_versions:
        doc: dict[str, Any] = {"effective_date": version.effective_date}
        if version.source:
            doc["source"] = version.source
        if version.note:
            doc["note"] = version.note
        doc["models"] = {
            key: None if entry is None else price_doc(entry)
            for key, entry in version.models.items()
        }
        versions.append(doc)
    return {
        "provider": pricing_file.provider,
        "currency": pricing_file.currency,
        "unit": pricing_file.unit,
        "pricing_versions": versions,
    }


def price_doc(entry: ModelPriceEntry | PriceTierEntry) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if isinstance(entry, PriceTierEntry):
        doc["above_input_tokens"] = entry.above_input_tokens
    for name in ("input", "output", "cache_read", "cache_write", "reasoning"):
        value = getattr(entry, name)
        if value is not None:
            doc[name] = str(plain(value))
    if isinstance(entry, ModelPriceEntry):
        if entry.tiers:
            doc["tiers"] = [price_doc(tier) for tier in entry.tiers]
        for name in ("source", "note"):
            if getattr(entry, name):
                doc[name] = getattr(entry, name)
    return doc


class _Dumper(yaml.SafeDumper):
    """Block style, except lists of plain values, which read best on one line."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(not isinstance(item, (dict, list)) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _represent_list)


def dump_yaml(doc: Mapping[str, Any]) -> str:
    return yaml.dump(
        dict(doc), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096,
        default_flow_style=False,
    )


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` all at once: a reader sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
