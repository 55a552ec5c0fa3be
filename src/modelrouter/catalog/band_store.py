"""Applying bands on disk: ``models.csv``, its state and its audit log, all changed or none.

The three files live together (default ``<user data dir>/bands/``):

- ``models.csv``: one row per model with its ``context_band`` and ``cost_tier``;
- ``bands_state.json``: the applied config, its sha256, the catalog fingerprint, the
  assignments and the manual overrides;
- ``bands_audit.jsonl``: one JSON line per move (time, model, old band, new band, reason).

``apply_bands`` is cheap when nothing changed: it compares the config hash and catalog
fingerprint with the state file and returns the stored assignments without writing anything.
Otherwise every new file is written to a temp file beside it, fsynced, and renamed into place;
if any step fails the previous files are restored byte for byte.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from modelrouter.catalog.bands import (
    BAND_KINDS,
    BandAssignment,
    BandKind,
    BandMove,
    BandOverride,
    BandPlan,
    BandsConfig,
    DroppedOverride,
    ModelBandInput,
    band_inputs,
    band_summary,
    bands_config_hash,
    catalog_fingerprint,
    check_override_band,
    describe_move,
    parse_bands_config,
    plan_bands,
)
from modelrouter.catalog.loader import Catalog, get_catalog
from modelrouter.catalog.pricing import format_usd
from modelrouter.errors import CatalogError
from modelrouter.paths import user_data_dir

LOGGER = logging.getLogger("modelrouter.bands")

CSV_NAME = "models.csv"
STATE_NAME = "bands_state.json"
AUDIT_NAME = "bands_audit.jsonl"
CSV_COLUMNS = (
    "model_id",
    "provider",
    "context_window",
    "blended_usd_per_mtok",
    "context_band",
    "cost_tier",
    "override",
)
STATE_FORMAT = 1


_BUNDLED_CONFIG = Path(__file__).resolve().parent / "data" / "bands_config.json"


BANDS_CONFIG_ENV = "MODELROUTER_BANDS_CONFIG"


def bundled_bands_config_path() -> Path:
    return _BUNDLED_CONFIG


def default_bands_config_path() -> Path:
    """``MODELROUTER_BANDS_CONFIG`` when set, so every command agrees; else the bundled one."""
    override = os.environ.get(BANDS_CONFIG_ENV)
    return Path(override) if override else _BUNDLED_CONFIG


@dataclass(frozen=True, slots=True)
class BandFiles:
    """Where the CSV, the state and the audit log are: always side by side."""

    csv: Path
    state: Path
    audit: Path

    @classmethod
    def beside(cls, csv_path: str | Path | None = None) -> BandFiles:
        """The files beside ``csv_path`` (a directory means ``<dir>/models.csv``)."""
        path = Path(csv_path) if csv_path else user_data_dir() / "bands" / CSV_NAME
        if path.is_dir():
            path = path / CSV_NAME
        return cls(path, path.with_name(STATE_NAME), path.with_name(AUDIT_NAME))

    def make_directory(self) -> Path:
        directory = self.csv.parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CatalogError(
                f"cannot create the bands directory: {exc.strerror}", file=str(directory)
            ) from None
        return directory


# --------------------------------------------------------------------------- config file

_config_cache: dict[Path, tuple[int, int, BandsConfig, str]] = {}


def load_bands_config(path: str | Path | None = None) -> tuple[BandsConfig, str]:
    """The bands config (default: ``default_bands_config_path()``) and its hash, cached."""
    file = Path(path) if path else default_bands_config_path()
    try:
        stat = file.stat()
    except OSError as exc:
        raise CatalogError(
            f"cannot read the bands config: {exc.strerror}", file=str(file)
        ) from None
    cached = _config_cache.get(file)
    if cached is not None and cached[:2] == (stat.st_mtime_ns, stat.st_size):
        return cached[2], cached[3]
    config = parse_bands_config(_read_json(file), str(file))
    config_hash = bands_config_hash(config)
    _config_cache[file] = (stat.st_mtime_ns, stat.st_size, config, config_hash)
    return config, config_hash


class _DuplicateKeyError(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(f"key {key!r} appears twice in one object")
        result[key] = value
    return result


def _read_json(file: Path) -> Any:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"cannot read: {exc.strerror}", file=str(file)) from None
    except UnicodeDecodeError:
        raise CatalogError("not UTF-8 text", file=str(file)) from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise CatalogError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", file=str(file)
        ) from None
    except _DuplicateKeyError as exc:
        raise CatalogError(str(exc), file=str(file)) from None


# --------------------------------------------------------------------------- state file


@dataclass(frozen=True, slots=True)
class AppliedBands:
    """The contents of ``bands_state.json``: what was last applied."""

    config_hash: str
    catalog_fingerprint: str
    config: dict[str, Any]
    assignments: dict[str, BandAssignment]
    overrides: dict[str, BandOverride]
    applied_at: str


def read_state(path: Path) -> AppliedBands | None:
    """The last applied bands, or None if they were never applied here."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise _corrupt_state(path, str(exc)) from None
    try:
        return _state_from_json(json.loads(text))
    except (ValueError, KeyError, TypeError, AttributeError, InvalidOperation) as exc:
        raise _corrupt_state(path, str(exc) or type(exc).__name__) from None


def _corrupt_state(path: Path, detail: str) -> CatalogError:
    return CatalogError(
        f"unreadable bands state ({detail})",
        file=str(path),
        hint="delete it to reassign every model from scratch; its manual overrides are lost",
    )


def _state_from_json(data: Any) -> AppliedBands:
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        raise ValueError(f"expected an object with format {STATE_FORMAT}")
    overrides = {
        model_id: _override_from_json(value) for model_id, value in data["overrides"].items()
    }
    assignments = {}
    for row in data["assignments"]:
        blended = row["blended_usd_per_mtok"]
        assignment = BandAssignment(
            model_id=str(row["model_id"]),
            provider=str(row["provider"]),
            context_window=int(row["context_window"]),
            blended=None if blended is None else Decimal(blended),
            context_band=str(row["context_band"]),
            cost_tier=str(row["cost_tier"]),
            override=_override_from_json(row["override"]) if row["override"] else None,
        )
        assignments[assignment.model_id] = assignment
    return AppliedBands(
        config_hash=str(data["config_hash"]),
        catalog_fingerprint=str(data["catalog_fingerprint"]),
        config=dict(data["config"]),
        assignments=assignments,
        overrides=overrides,
        applied_at=str(data["applied_at"]),
    )


def _override_from_json(value: Any) -> BandOverride:
    if not isinstance(value, dict) or set(value) - set(BAND_KINDS):
        raise ValueError(f"bad override {value!r}")
    return BandOverride(context_band=value.get("context_band"), cost_tier=value.get("cost_tier"))


def state_bytes(applied: AppliedBands) -> bytes:
    data = {
        "format": STATE_FORMAT,
        "applied_at": applied.applied_at,
        "config_hash": applied.config_hash,
        "catalog_fingerprint": applied.catalog_fingerprint,
        "config": applied.config,
        "overrides": {
            model_id: override.to_dict() for model_id, override in sorted(applied.overrides.items())
        },
        "assignments": [a.to_dict() for a in applied.assignments.values()],
    }
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


# --------------------------------------------------------------------------- CSV and audit


def csv_bytes(assignments: Sequence[BandAssignment]) -> bytes:
    """``models.csv``: a header and one row per model, sorted by model id."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for a in sorted(assignments, key=lambda a: a.model_id):
        writer.writerow(
            (
                a.model_id,
                a.provider,
                a.context_window,
                "" if a.blended is None else format_usd(a.blended),
                a.context_band,
                a.cost_tier,
                a.override.describe() if a.override else "",
            )
        )
    return buffer.getvalue().encode()


def audit_bytes(moves: Sequence[BandMove], when: datetime, config_hash: str) -> bytes:
    """One JSON line per move."""
    stamp = when.astimezone(UTC).isoformat()
    lines = [
        json.dumps(
            {
                "time": stamp,
                "model": move.model_id,
                "kind": move.kind,
                "old_band": move.old_band,
                "new_band": move.new_band,
                "reason": move.reason,
                "config_hash": config_hash,
            },
            ensure_ascii=False,
        )
        for move in moves
    ]
    return "".join(line + "\n" for line in lines).encode()


# --------------------------------------------------------------------------- atomic commit


def write_files_atomically(contents: Mapping[Path, bytes]) -> None:
    """Replace every file in ``contents``, or (on any failure) leave every one as it was.

    Each new file is written to a temp file in the same directory, flushed and fsynced, then
    renamed over the old one. The old files are kept as hard-linked backups until all renames
    succeeded; after a failure they are renamed back.
    """
    staged: list[tuple[Path, Path]] = []
    backups: dict[Path, Path | None] = {}
    installed: list[Path] = []
    try:
        for target, data in contents.items():
            staged.append((_write_temp(target, data), target))
        for _, target in staged:
            backups[target] = _backup(target)
        for temp, target in staged:
            os.replace(temp, target)
            installed.append(target)
    except BaseException:
        kept = _roll_back(installed, backups)
        for temp, _ in staged:
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)
        for backup in backups.values():
            if backup is not None and backup not in kept:
                with contextlib.suppress(OSError):
                    backup.unlink(missing_ok=True)
        raise
    for directory in {target.parent for target in contents}:
        _fsync_directory(directory)
    for backup in backups.values():
        if backup is not None:
            with contextlib.suppress(OSError):
                backup.unlink(missing_ok=True)


def _write_temp(target: Path, data: bytes) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private; keep the old file's mode, or the usual 0644.
        try:
            mode = target.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = 0o644
        os.chmod(temp, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
        raise
    return temp


def _backup(target: Path) -> Path | None:
    if not target.exists():
        return None
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".bak", dir=target.parent)
    os.close(fd)
    backup = Path(name)
    backup.unlink()
    try:
        os.link(target, backup)
    except OSError:  # a filesystem without hard links: copy instead
        shutil.copy2(target, backup)
    return backup


def _roll_back(installed: Sequence[Path], backups: Mapping[Path, Path | None]) -> set[Path]:
    """Put the previous files back; returns the backups that could not be restored."""
    kept: set[Path] = set()
    for target in reversed(installed):
        backup = backups.get(target)
        try:
            if backup is None:
                target.unlink(missing_ok=True)
            else:
                os.replace(backup, target)
        except OSError as exc:
            if backup is not None:
                kept.add(backup)
            LOGGER.error(
                "could not restore %s (%s); its previous content is in %s", target, exc, backup
            )
    return kept


def _fsync_directory(directory: Path) -> None:
    # Makes the renames durable; not possible on every platform (Windows), so best effort.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    """Serialise writers across processes (POSIX advisory lock on the directory)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- apply


@dataclass(frozen=True, slots=True)
class BandsApplyResult:
    """What ``apply_bands`` found or did."""

    files: BandFiles
    config: BandsConfig
    config_hash: str
    assignments: list[BandAssignment]
    moves: list[BandMove] = field(default_factory=list)
    written: bool = False
    up_to_date: bool = False
    dropped_overrides: list[DroppedOverride] = field(default_factory=list)

    def summary(self) -> list[str]:
        return band_summary(self.assignments, self.config)

    def assignment(self, model_id: str) -> BandAssignment | None:
        return next((a for a in self.assignments if a.model_id == model_id), None)


def apply_bands(
    catalog: Catalog | None = None,
    *,
    config_path: str | Path | None = None,
    csv_path: str | Path | None = None,
    dry_run: bool = False,
    on: date | None = None,
    now: datetime | None = None,
) -> BandsApplyResult:
    """Bring ``models.csv`` in line with the bands config; a no-op when nothing changed.

    With ``dry_run`` the moves are computed and returned but nothing is written or logged.
    """
    catalog = get_catalog() if catalog is None else catalog
    config, config_hash = load_bands_config(config_path)
    files = BandFiles.beside(csv_path)
    inputs = band_inputs(catalog, on)
    fingerprint = catalog_fingerprint(inputs)
    previous = read_state(files.state)
    if previous is not None and _is_current(previous, config_hash, fingerprint, files):
        return _unchanged(files, config, config_hash, previous)
    if dry_run:
        plan = _plan(inputs, config, config_hash, previous, None)
        return _result(files, config, config_hash, plan, written=False)
    with _directory_lock(files.make_directory()):
        previous = read_state(files.state)  # another process may have applied meanwhile
        if previous is not None and _is_current(previous, config_hash, fingerprint, files):
            return _unchanged(files, config, config_hash, previous)
        plan = _plan(inputs, config, config_hash, previous, None)
        _commit(files, config, config_hash, fingerprint, plan, now)
    return _result(files, config, config_hash, plan, written=True)


def preview_bands(
    catalog: Catalog | None = None,
    *,
    config_path: str | Path | None = None,
    csv_path: str | Path | None = None,
    on: date | None = None,
) -> BandsApplyResult:
    """The assignments the config gives today, with the stored overrides; writes nothing."""
    catalog = get_catalog() if catalog is None else catalog
    config, config_hash = load_bands_config(config_path)
    files = BandFiles.beside(csv_path)
    previous = read_state(files.state)
    plan = _plan(band_inputs(catalog, on), config, config_hash, previous, None)
    return _result(files, config, config_hash, plan, written=False)


def set_override(
    model: str,
    *,
    context_band: str | None = None,
    cost_tier: str | None = None,
    clear: bool = False,
    catalog: Catalog | None = None,
    config_path: str | Path | None = None,
    csv_path: str | Path | None = None,
    on: date | None = None,
    now: datetime | None = None,
) -> BandsApplyResult:
    """Pin a model's context band and/or cost tier (or ``clear`` its pins) and re-apply."""
    if clear == (context_band is not None or cost_tier is not None):
        raise ValueError("give a context band and/or a cost tier, or clear=True")
    catalog = get_catalog() if catalog is None else catalog
    model_id = catalog.get(model).model_id
    config, config_hash = load_bands_config(config_path)
    config_file = str(Path(config_path) if config_path else bundled_bands_config_path())
    requested: dict[BandKind, str | None] = {"context_band": context_band, "cost_tier": cost_tier}
    for kind, name in requested.items():
        if name is not None:
            check_override_band(kind, name, config, config_file)
    files = BandFiles.beside(csv_path)
    inputs = band_inputs(catalog, on)
    with _directory_lock(files.make_directory()):
        previous = read_state(files.state)
        overrides = dict(previous.overrides) if previous else {}
        if clear:
            overrides.pop(model_id, None)
        else:
            current = overrides.get(model_id, BandOverride())
            overrides[model_id] = BandOverride(
                context_band=context_band or current.context_band,
                cost_tier=cost_tier or current.cost_tier,
            )
        plan = _plan(inputs, config, config_hash, previous, overrides)
        _commit(files, config, config_hash, catalog_fingerprint(inputs), plan, now)
    return _result(files, config, config_hash, plan, written=True)


def _is_current(
    previous: AppliedBands, config_hash: str, fingerprint: str, files: BandFiles
) -> bool:
    return (
        previous.config_hash == config_hash
        and previous.catalog_fingerprint == fingerprint
        and files.csv.exists()
    )


def _unchanged(
    files: BandFiles, config: BandsConfig, config_hash: str, previous: AppliedBands
) -> BandsApplyResult:
    return BandsApplyResult(
        files=files,
        config=config,
        config_hash=config_hash,
        assignments=list(previous.assignments.values()),
        up_to_date=True,
    )


def _plan(
    inputs: Sequence[ModelBandInput],
    config: BandsConfig,
    config_hash: str,
    previous: AppliedBands | None,
    overrides: Mapping[str, BandOverride] | None,
) -> BandPlan:
    if overrides is None:
        overrides = previous.overrides if previous else {}
    return plan_bands(
        inputs,
        config,
        overrides,
        previous.assignments if previous else None,
        config_changed=previous is not None and previous.config_hash != config_hash,
    )


def _result(
    files: BandFiles, config: BandsConfig, config_hash: str, plan: BandPlan, *, written: bool
) -> BandsApplyResult:
    return BandsApplyResult(
        files=files,
        config=config,
        config_hash=config_hash,
        assignments=plan.assignments,
        moves=plan.moves,
        written=written,
        dropped_overrides=plan.dropped_overrides,
    )


def _commit(
    files: BandFiles,
    config: BandsConfig,
    config_hash: str,
    fingerprint: str,
    plan: BandPlan,
    now: datetime | None,
) -> None:
    when = datetime.now(UTC) if now is None else now
    applied = AppliedBands(
        config_hash=config_hash,
        catalog_fingerprint=fingerprint,
        config=config.to_json_dict(),
        assignments={a.model_id: a for a in plan.assignments},
        overrides=plan.overrides,
        applied_at=when.astimezone(UTC).isoformat(),
    )
    # The state goes last: a crash before it means the next start simply applies again.
    contents: dict[Path, bytes] = {files.csv: csv_bytes(plan.assignments)}
    if plan.moves:
        try:
            old_audit = files.audit.read_bytes()
        except FileNotFoundError:
            old_audit = b""
        if old_audit and not old_audit.endswith(b"\n"):
            old_audit += b"\n"  # a line cut short by hand must not swallow the next one
        contents[files.audit] = old_audit + audit_bytes(plan.moves, when, config_hash)
    contents[files.state] = state_bytes(applied)
    try:
        write_files_atomically(contents)
    except OSError as exc:
        raise CatalogError(
            f"could not write the bands files ({exc}); the previous files are unchanged",
            file=str(files.csv.parent),
        ) from exc
    for dropped in plan.dropped_overrides:
        LOGGER.warning(
            "Dropped override %s of %s: %s", dropped.override.describe(), dropped.model_id,
            dropped.why,
        )
    for move in plan.moves:
        LOGGER.info("%s", describe_move(move))
    if plan.moves:
        for line in band_summary(plan.assignments, config):
            LOGGER.info("%s", line)
