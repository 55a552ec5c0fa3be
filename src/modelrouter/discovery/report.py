"""A discovery run: its dated JSON report, its cache, and the config that adopts it.

- The cache (``user_data_dir()/discovery/free-models.json``) keeps the last run with its date;
  it is reused while younger than ``max_age_days`` for the same source (and, for a tested run,
  the same endpoint).
- ``write_report(run, dir)`` writes ``free-models-YYYY-MM-DD.json``.
- ``choose_tiers(run)`` picks up to three free models per tier among the available ones (ok
  probe, or untested): ``fast`` the fastest (measured latency, else speed class), ``balanced``
  the best quality that is not slow, ``advanced`` the best quality. ``config_fragment`` and
  ``env_lines`` express the choice as ``[tiers.<tier>] models = [...]`` and as the seed's
  ``MODEL_FREE_BUDGET_1=...`` lines. Every file is written atomically (temp file + rename).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from modelrouter.catalog.schema import QUALITY_RANK, SPEED_RANK, QualityClass, SpeedClass
from modelrouter.discovery.free_models import FreeModel, speed_class
from modelrouter.discovery.probe import ProbeResult

CACHE_NAME = "free-models.json"
REPORT_NAME = "free-models-{date}.json"
DEFAULT_MAX_AGE_DAYS = 30
SLOTS = 3  # the seed's MODEL_FREE_<SEED>_1..3
SEED_NAMES = {"fast": "BUDGET", "balanced": "FALLBACK", "advanced": "PREMIUM"}
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class DiscoveredModel:
    """A free model with its classification and, when tested, its probe result."""

    model: FreeModel
    probe: ProbeResult | None = None

    @property
    def available(self) -> bool:
        """Usable as far as we know: answered the probe, or was not tested."""
        return self.probe is None or self.probe.ok

    @property
    def speed(self) -> SpeedClass | None:
        latency = self.probe.latency_s if self.probe is not None and self.probe.ok else None
        return speed_class(self.model, latency)

    @property
    def quality(self) -> QualityClass:
        return self.model.quality

    def to_dict(self) -> dict[str, Any]:
        probe = self.probe
        return {
            "id": self.model.model_id,
            "openrouter_id": self.model.id,
            "name": self.model.name,
            "context_tokens": self.model.context_tokens,
            "params_b": self.model.params_b,
            "active_params_b": self.model.active_b,
            "speed": self.speed.value if self.speed else "unknown",
            "quality": self.quality.value,
            "tested": probe is not None,
            "available": self.available,
            "probe": None if probe is None else probe.to_dict(),
            "latency_ms": None if probe is None else round(probe.latency_s * 1000, 1),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DiscoveredModel:
        model = FreeModel(str(data["openrouter_id"]), str(data["name"]),
                          int(data["context_tokens"]), data.get("params_b"),
                          data.get("active_params_b"))
        raw = data.get("probe")
        probe = None if raw is None else ProbeResult.from_dict(model.id, raw)
        return cls(model, probe)


@dataclass(frozen=True, slots=True)
class DiscoveryRun:
    """One run of discovery: when, from where, whether tested, and what was found."""

    day: date
    source: str
    tested: bool
    models: tuple[DiscoveredModel, ...] = ()
    base_url: str | None = None  # where the probes went, when tested
    from_cache: bool = field(default=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "date": self.day.isoformat(),
            "source": self.source,
            "tested": self.tested,
            "base_url": self.base_url,
            "count": len(self.models),
            "available": sum(1 for m in self.models if m.available),
            "models": [m.to_dict() for m in self.models],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DiscoveryRun:
        return cls(
            day=date.fromisoformat(str(data["date"])),
            source=str(data["source"]),
            tested=bool(data["tested"]),
            models=tuple(DiscoveredModel.from_dict(m) for m in data["models"]),
            base_url=data.get("base_url"),
        )


# --------------------------------------------------------------------------- files


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def cache_path() -> Path:
    from modelrouter.paths import user_data_dir

    return user_data_dir() / "discovery" / CACHE_NAME


def save_cache(run: DiscoveryRun, path: Path | None = None) -> Path:
    target = path or cache_path()
    write_atomic(target, json.dumps(run.to_dict(), indent=2) + "\n")
    return target


def load_cache(
    *, source: str, today: date, max_age_days: int = DEFAULT_MAX_AGE_DAYS,
    tested: bool = False, base_url: str | None = None, path: Path | None = None,
) -> DiscoveryRun | None:
    """The cached run if it is fresh and answers this question; else None (never raises)."""
    target = path or cache_path()
    try:
        run = DiscoveryRun.from_dict(json.loads(target.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent or unreadable: discover again
    if run.source != source or today - run.day >= timedelta(days=max_age_days):
        return None
    if run.day > today:
        return None
    if tested and (not run.tested or run.base_url != base_url):
        return None
    return DiscoveryRun(run.day, run.source, run.tested, run.models, run.base_url,
                        from_cache=True)


def write_report(run: DiscoveryRun, directory: Path) -> Path:
    """``<directory>/free-models-YYYY-MM-DD.json`` with every model and the tier choice."""
    path = directory / REPORT_NAME.format(date=run.day.isoformat())
    body = run.to_dict()
    body["tiers"] = choose_tiers(run.models)
    write_atomic(path, json.dumps(body, indent=2) + "\n")
    return path


# --------------------------------------------------------------------------- adopting


def _latency(m: DiscoveredModel) -> float:
    return m.probe.latency_s if m.probe is not None else float("inf")


def _speed_rank(m: DiscoveredModel) -> int:
    speed = m.speed
    return SPEED_RANK[speed] if speed is not None else len(SPEED_RANK)


def choose_tiers(models: Sequence[DiscoveredModel], slots: int = SLOTS) -> dict[str, list[str]]:
    """Up to ``slots`` model ids per tier, best first; tiers with nothing available are left
    out. Pure: the same run always gives the same choice (ties go to the id)."""
    usable = [m for m in models if m.available]
    if not usable:
        return {}
    fastest = sorted(usable, key=lambda m: (_speed_rank(m), _latency(m),
                                            -QUALITY_RANK[m.quality], m.model.id))
    best = sorted(usable, key=lambda m: (-QUALITY_RANK[m.quality], -m.model.context_tokens,
                                         _speed_rank(m), _latency(m), m.model.id))
    not_slow = [m for m in best if m.speed is not SpeedClass.SLOW] or best
    picks = {"fast": fastest, "balanced": not_slow, "advanced": best}
    return {tier: [m.model.model_id for m in chosen[:slots]] for tier, chosen in picks.items()}


def config_fragment(tiers: dict[str, list[str]], day: date) -> str:
    """A TOML fragment for ``modelrouter.toml`` choosing these free models per tier."""
    lines = [
        f"# Free models found by `modelrouter discover` on {day.isoformat()}.",
        "# A tier's list is also its fallback order: append your paid models after these.",
    ]
    for tier, models in tiers.items():
        quoted = ", ".join(json.dumps(m) for m in models)
        lines += ["", f"[tiers.{tier}]", f"models = [{quoted}]"]
    return "\n".join(lines) + "\n"


def env_lines(tiers: dict[str, list[str]]) -> list[str]:
    """``MODEL_FREE_<SEED>_<n>=<model>``: the seed's variables, tried before a tier's list."""
    lines: list[str] = []
    for tier, models in tiers.items():
        seed = SEED_NAMES.get(tier)
        if seed is None:
            continue
        lines += [f"MODEL_FREE_{seed}_{n}={model}" for n, model in enumerate(models, 1)]
    return lines


def write_config(path: Path, tiers: dict[str, list[str]], day: date) -> Path:
    write_atomic(path, config_fragment(tiers, day))
    return path
