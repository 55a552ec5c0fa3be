"""Bands: which context-window band and cost tier each model is in (pure, no I/O).

``bands_config.json`` lists ``context_window_bands`` (by ``metadata.context_window_input``) and
``cost_tier_bands`` (by blended USD per million tokens, ``(3 × input + output) / 4``) as ordered
half-open intervals ``[min, max)``: the first starts at 0, each starts where the previous ends,
and only the last is open-ended (``max = null``). A free model, or one whose price is 0, is in
the cost tier that contains 0; a model without a price is in the cost tier ``unknown``.

Everything here takes data and returns data; ``band_store`` reads and writes the files.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from modelrouter.catalog.loader import Catalog, describe_validation_error
from modelrouter.catalog.pricing import format_usd
from modelrouter.errors import CatalogError

BandKind = Literal["context_band", "cost_tier"]
BAND_KINDS: tuple[BandKind, ...] = ("context_band", "cost_tier")
UNKNOWN_COST_TIER = "unknown"

REASON_CONFIG_CHANGED = "bands config changed"
REASON_NEW_MODEL = "new model"
REASON_OVERRIDE = "manual override"
REASON_OVERRIDE_CLEARED = "override cleared"
REASON_PRICE_CHANGED = "price changed"
REASON_CONTEXT_CHANGED = "context window changed"
REASON_MODEL_REMOVED = "model removed"
REASON_CATALOG_CHANGED = "catalog changed"

_ZERO = Decimal(0)


# --------------------------------------------------------------------------- config schema


def _money(value: Any) -> Any:
    # Strings only: a JSON float such as 0.1 is not the decimal the author wrote.
    if isinstance(value, Decimal):
        money = value
    elif isinstance(value, str):
        try:
            money = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f'{value!r} is not a decimal number; write e.g. "0.01"') from None
    else:
        raise ValueError(f'write USD amounts as decimal strings, e.g. "0.01", not {value!r}')
    if not money.is_finite():
        raise ValueError(f"{value!r} is not a finite amount")
    return money


Money = Annotated[Decimal, BeforeValidator(_money), Field(ge=0)]
def _band_name(value: str) -> str:
    if not _BAND_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a band name: use lowercase letters, digits, '-' or '_' "
            "(up to 40), starting with a letter"
        )
    return value


_BAND_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")
BandName = Annotated[StrictStr, AfterValidator(_band_name)]


class _Strict(BaseModel):
    # Scalars are strict (no "32000" for 32000, no 1.5 for money); JSON arrays become tuples.
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContextWindowBand(_Strict):
    """Models whose input context window is in ``[min_tokens, max_tokens)``."""

    name: BandName
    min_tokens: StrictInt = Field(ge=0)
    max_tokens: StrictInt | None = Field(gt=0)

    def contains(self, tokens: int) -> bool:
        return self.min_tokens <= tokens and (self.max_tokens is None or tokens < self.max_tokens)


class CostTierBand(_Strict):
    """Models whose blended price (USD per million tokens) is in ``[min, max)``."""

    name: BandName
    min_usd_per_mtok: Money
    max_usd_per_mtok: Money | None

    def contains(self, blended: Decimal) -> bool:
        upper = self.max_usd_per_mtok
        return self.min_usd_per_mtok <= blended and (upper is None or blended < upper)


class BandsConfig(_Strict):
    """The whole of ``bands_config.json``; any instance has passed the interval checks."""

    version: StrictInt
    context_window_bands: tuple[ContextWindowBand, ...] = Field(min_length=1)
    cost_tier_bands: tuple[CostTierBand, ...] = Field(min_length=1)

    @field_validator("version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != 1:
            raise ValueError(f"this modelrouter reads bands config version 1, not {value}")
        return value

    @model_validator(mode="after")
    def _intervals_tile_from_zero(self) -> BandsConfig:
        problems = _interval_problems(
            "context_window_bands",
            [
                (b.name, Decimal(b.min_tokens), _dec(b.max_tokens))
                for b in self.context_window_bands
            ],
            ("min_tokens", "max_tokens"),
            _format_tokens,
        )
        problems += _interval_problems(
            "cost_tier_bands",
            [(b.name, b.min_usd_per_mtok, b.max_usd_per_mtok) for b in self.cost_tier_bands],
            ("min_usd_per_mtok", "max_usd_per_mtok"),
            _format_money,
        )
        for index, band in enumerate(self.cost_tier_bands):
            if band.name == UNKNOWN_COST_TIER:
                problems.append(
                    f"cost_tier_bands[{index}].name: {UNKNOWN_COST_TIER!r} is reserved for "
                    "models without a price; choose another name"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def context_band_names(self) -> list[str]:
        return [band.name for band in self.context_window_bands]

    @property
    def cost_tier_names(self) -> list[str]:
        return [band.name for band in self.cost_tier_bands]

    def names(self, kind: BandKind) -> list[str]:
        return self.context_band_names if kind == "context_band" else self.cost_tier_names

    def to_json_dict(self) -> dict[str, Any]:
        """The config in its file shape (USD as strings), for hashing and printing."""
        return self.model_dump(mode="json")


def _dec(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _format_tokens(value: Decimal) -> str:
    return f"{int(value):,}"


def _format_money(value: Decimal) -> str:
    return f"${value}"


def _interval_problems(
    list_key: str,
    bands: Sequence[tuple[str, Decimal, Decimal | None]],
    field_names: tuple[str, str],
    show: Callable[[Decimal], str],
) -> list[str]:
    """What stops ``bands`` from tiling ``[0, ∞)`` in order, each as ``key: message``."""
    min_field, max_field = field_names
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, (name, _, _) in enumerate(bands):
        if name in seen:
            problems.append(
                f"{list_key}[{index}].name: {name!r} is already the name of "
                f"{list_key}[{seen[name]}]"
            )
        seen.setdefault(name, index)
    for index, (name, low, high) in enumerate(bands):
        if high is not None and high <= low:
            problems.append(
                f"{list_key}[{index}].{max_field}: {name!r} ends at {show(high)}, which is not "
                f"above where it starts ({show(low)})"
            )
        if high is None and index != len(bands) - 1:
            problems.append(
                f"{list_key}[{index}].{max_field}: only the last band may be open-ended (null), "
                f"but {name!r} is followed by {bands[index + 1][0]!r}"
            )
    if problems:
        return problems
    first_name, first_low, _ = bands[0]
    if first_low != 0:
        problems.append(
            f"{list_key}[0].{min_field}: the first band {first_name!r} must start at 0, "
            f"not {show(first_low)}, so that every model falls in a band"
        )
    starts = [low for _, low, _ in bands]
    if starts != sorted(starts):
        order = ", ".join(f"{name!r} (starts {show(low)})" for name, low, _ in bands)
        problems.append(f"{list_key}: bands are out of order: {order}; list them lowest first")
        return problems
    for index in range(1, len(bands)):
        prev_name, _, prev_high = bands[index - 1]
        name, low, _ = bands[index]
        assert prev_high is not None  # only the last band is open-ended (checked above)
        if low == prev_high:
            continue
        what = "gap" if low > prev_high else "overlap"
        problems.append(
            f"{list_key}: {what} between {prev_name!r} (ends {show(prev_high)}) and {name!r} "
            f"(starts {show(low)}); {list_key}[{index}].{min_field} must equal "
            f"{list_key}[{index - 1}].{max_field}"
        )
    last_name, _, last_high = bands[-1]
    if last_high is not None:
        problems.append(
            f"{list_key}[{len(bands) - 1}].{max_field}: the last band {last_name!r} must be "
            f"open-ended (null), not {show(last_high)}, so that every model falls in a band"
        )
    return problems


def describe_bands_error(exc: ValidationError) -> str:
    """One clause per problem, each naming its key: ``cost_tier_bands[1].name: ...``."""
    return describe_validation_error(exc, "bands config")


def parse_bands_config(raw: Any, file: str) -> BandsConfig:
    """Validate the parsed JSON of a bands config; errors name the file and the key."""
    if not isinstance(raw, dict):
        raise CatalogError("expected a JSON object at the top level", file=file)
    try:
        return BandsConfig.model_validate(raw)
    except ValidationError as exc:
        raise CatalogError(describe_bands_error(exc), file=file) from None


def bands_config_hash(config: BandsConfig) -> str:
    """sha256 of the config's canonical JSON: layout and key order do not count as a change."""
    canonical = json.dumps(config.to_json_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# --------------------------------------------------------------------------- assignment


@dataclass(frozen=True, slots=True)
class ModelBandInput:
    """What decides a model's bands: its context window and today's blended price."""

    model_id: str
    provider: str
    context_window: int
    blended: Decimal | None
    free: bool


@dataclass(frozen=True, slots=True)
class BandOverride:
    """A manual choice that beats the computed band (None = not overridden)."""

    context_band: str | None = None
    cost_tier: str | None = None

    def get(self, kind: BandKind) -> str | None:
        return self.context_band if kind == "context_band" else self.cost_tier

    def __bool__(self) -> bool:
        return self.context_band is not None or self.cost_tier is not None

    def describe(self) -> str:
        """``context_band=large; cost_tier=premium`` (the CSV ``override`` column)."""
        return "; ".join(f"{kind}={self.get(kind)}" for kind in BAND_KINDS if self.get(kind))

    def to_dict(self) -> dict[str, str]:
        return {kind: value for kind in BAND_KINDS if (value := self.get(kind)) is not None}


@dataclass(frozen=True, slots=True)
class BandAssignment:
    """One model's bands, as in a row of ``models.csv``."""

    model_id: str
    provider: str
    context_window: int
    blended: Decimal | None
    context_band: str
    cost_tier: str
    override: BandOverride | None = None

    def band(self, kind: BandKind) -> str:
        return self.context_band if kind == "context_band" else self.cost_tier

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "provider": self.provider,
            "context_window": self.context_window,
            "blended_usd_per_mtok": None if self.blended is None else format_usd(self.blended),
            "context_band": self.context_band,
            "cost_tier": self.cost_tier,
            "override": self.override.to_dict() if self.override else None,
        }


def band_inputs(catalog: Catalog, on: date | None = None) -> list[ModelBandInput]:
    """Each model's band inputs from the catalog, priced on ``on`` (default today, UTC)."""
    inputs = []
    for spec in catalog:
        price = catalog.prices.price(spec.pricing_ref, on)
        inputs.append(
            ModelBandInput(
                model_id=spec.model_id,
                provider=spec.provider,
                context_window=spec.metadata.context_window_input,
                blended=None if price is None else price.blended,
                free=spec.free,
            )
        )
    return inputs


def catalog_fingerprint(inputs: Iterable[ModelBandInput]) -> str:
    """sha256 of everything in the catalog that the bands depend on."""
    digest = hashlib.sha256()
    for item in sorted(inputs, key=lambda i: i.model_id):
        blended = "-" if item.blended is None else str(item.blended)
        line = f"{item.model_id}|{item.provider}|{item.context_window}|{blended}|{item.free}\n"
        digest.update(line.encode())
    return digest.hexdigest()


def context_band_for(tokens: int, config: BandsConfig) -> str:
    for band in config.context_window_bands:
        if band.contains(tokens):
            return band.name
    raise AssertionError("a validated config covers every token count")  # pragma: no cover


def cost_tier_for(blended: Decimal | None, free: bool, config: BandsConfig) -> str:
    """The tier containing the blended price; 0 for free models; ``unknown`` without a price."""
    if free:
        blended = _ZERO
    if blended is None:
        return UNKNOWN_COST_TIER
    for band in config.cost_tier_bands:
        if band.contains(blended):
            return band.name
    raise AssertionError("a validated config covers every price ≥ 0")  # pragma: no cover


def assign_bands(
    inputs: Iterable[ModelBandInput],
    config: BandsConfig,
    overrides: Mapping[str, BandOverride] | None = None,
) -> list[BandAssignment]:
    """Every model's bands, overrides applied, sorted by model id."""
    overrides = overrides or {}
    assignments = []
    for item in sorted(inputs, key=lambda i: i.model_id):
        override = overrides.get(item.model_id) or None
        context_band = context_band_for(item.context_window, config)
        cost_tier = cost_tier_for(item.blended, item.free, config)
        if override is not None:
            context_band = override.context_band or context_band
            cost_tier = override.cost_tier or cost_tier
        assignments.append(
            BandAssignment(
                model_id=item.model_id,
                provider=item.provider,
                context_window=item.context_window,
                blended=item.blended,
                context_band=context_band,
                cost_tier=cost_tier,
                override=override,
            )
        )
    return assignments


@dataclass(frozen=True, slots=True)
class DroppedOverride:
    model_id: str
    override: BandOverride
    why: str


def usable_overrides(
    overrides: Mapping[str, BandOverride], config: BandsConfig, model_ids: Iterable[str]
) -> tuple[dict[str, BandOverride], list[DroppedOverride]]:
    """Split overrides into those that still apply and those that cannot (and why)."""
    known = set(model_ids)
    kept: dict[str, BandOverride] = {}
    dropped: list[DroppedOverride] = []
    for model_id, override in sorted(overrides.items()):
        if model_id not in known:
            dropped.append(DroppedOverride(model_id, override, "the model is not in the catalog"))
            continue
        missing = [
            f"{kind} {value!r}"
            for kind in BAND_KINDS
            if (value := override.get(kind)) is not None and value not in config.names(kind)
        ]
        if missing:
            dropped.append(
                DroppedOverride(
                    model_id, override, f"no {' or '.join(missing)} in the bands config"
                )
            )
            continue
        if override:
            kept[model_id] = override
    return kept, dropped


def check_override_band(
    kind: BandKind, name: str, config: BandsConfig, file: str | None = None
) -> None:
    """Raise CatalogError, listing the valid names, unless ``name`` is a band of ``kind``."""
    names = config.names(kind)
    if name not in names:
        label = "context band" if kind == "context_band" else "cost tier"
        raise CatalogError(
            f"no {label} {name!r} in the bands config; the {label}s are: {', '.join(names)}",
            file=file,
            key="context_window_bands" if kind == "context_band" else "cost_tier_bands",
        )


# --------------------------------------------------------------------------- moves


@dataclass(frozen=True, slots=True)
class BandMove:
    """A model entering, leaving or changing a band; one audit line."""

    model_id: str
    kind: BandKind
    old_band: str | None
    new_band: str | None
    reason: str
    context_window: int
    blended: Decimal | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "kind": self.kind,
            "old_band": self.old_band,
            "new_band": self.new_band,
            "reason": self.reason,
        }


def diff_assignments(
    old: Mapping[str, BandAssignment],
    new: Sequence[BandAssignment],
    *,
    config_changed: bool,
) -> list[BandMove]:
    """The moves from ``old`` to ``new``, each with the reason it happened."""
    moves: list[BandMove] = []
    new_ids = set()
    for after in new:
        new_ids.add(after.model_id)
        before = old.get(after.model_id)
        for kind in BAND_KINDS:
            if before is not None and before.band(kind) == after.band(kind):
                continue
            moves.append(
                BandMove(
                    model_id=after.model_id,
                    kind=kind,
                    old_band=None if before is None else before.band(kind),
                    new_band=after.band(kind),
                    reason=_reason(before, after, kind, config_changed),
                    context_window=after.context_window,
                    blended=after.blended,
                )
            )
    for model_id in sorted(set(old) - new_ids):
        gone = old[model_id]
        for kind in BAND_KINDS:
            moves.append(
                BandMove(
                    model_id=model_id,
                    kind=kind,
                    old_band=gone.band(kind),
                    new_band=None,
                    reason=REASON_MODEL_REMOVED,
                    context_window=gone.context_window,
                    blended=gone.blended,
                )
            )
    return moves


def _reason(
    before: BandAssignment | None, after: BandAssignment, kind: BandKind, config_changed: bool
) -> str:
    if before is None:
        return REASON_NEW_MODEL
    old_override = before.override.get(kind) if before.override else None
    new_override = after.override.get(kind) if after.override else None
    if new_override != old_override:
        return REASON_OVERRIDE if new_override is not None else REASON_OVERRIDE_CLEARED
    if kind == "cost_tier" and before.blended != after.blended:
        return REASON_PRICE_CHANGED
    if kind == "context_band" and before.context_window != after.context_window:
        return REASON_CONTEXT_CHANGED
    return REASON_CONFIG_CHANGED if config_changed else REASON_CATALOG_CHANGED


# --------------------------------------------------------------------------- words


def describe_move(move: BandMove, *, would: bool = False) -> str:
    """``Assigned openai:gpt-5 (400,000 tokens) to extended band`` and the like."""
    verb = "Would assign" if would else "Assigned"
    noun = "band" if move.kind == "context_band" else "tier"
    if move.kind == "context_band":
        what = f"{move.context_window:,} tokens"
    elif move.blended is None:
        what = "no price"
    else:
        what = f"${format_usd(move.blended)} per million tokens blended"
    if move.new_band is None:
        verb = "Would remove" if would else "Removed"
        return f"{verb} {move.model_id} ({what}) from {move.old_band} {noun} ({move.reason})"
    text = f"{verb} {move.model_id} ({what}) to {move.new_band} {noun}"
    if move.old_band is not None:
        text += f" (was {move.old_band}; {move.reason})"
    return text


def band_summary(assignments: Sequence[BandAssignment], config: BandsConfig) -> list[str]:
    """``Extended band: 8 models - [a, b, ...]``, one line per band and per tier."""
    lines = []
    for kind in BAND_KINDS:
        names = list(config.names(kind))
        members: dict[str, list[str]] = {name: [] for name in names}
        for assignment in assignments:
            members.setdefault(assignment.band(kind), []).append(assignment.model_id)
        noun = "band" if kind == "context_band" else "tier"
        for name, model_ids in members.items():
            count = f"{len(model_ids)} model{'' if len(model_ids) == 1 else 's'}"
            listed = ", ".join(sorted(model_ids))
            lines.append(f"{name.capitalize()} {noun}: {count} - [{listed}]")
    return lines


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True, slots=True)
class BandPlan:
    """What applying a config to a catalog gives: the assignments and the moves to get there."""

    assignments: list[BandAssignment]
    moves: list[BandMove]
    overrides: dict[str, BandOverride]
    dropped_overrides: list[DroppedOverride]


def plan_bands(
    inputs: Sequence[ModelBandInput],
    config: BandsConfig,
    overrides: Mapping[str, BandOverride],
    previous: Mapping[str, BandAssignment] | None,
    *,
    config_changed: bool,
) -> BandPlan:
    """Assign every model and diff against ``previous`` (None: nothing applied yet)."""
    kept, dropped = usable_overrides(overrides, config, (i.model_id for i in inputs))
    assignments = assign_bands(inputs, config, kept)
    moves = diff_assignments(previous or {}, assignments, config_changed=config_changed)
    return BandPlan(assignments, moves, kept, dropped)
