"""OpenRouter's free models, read from its model list and classified by speed and quality.

A model is free when its prompt and completion prices are both ``"0"``. Kept: chat models with
text-only output (music and image generators are skipped), never OpenRouter's own routers
(``"-1"`` dynamic prices, and ``openrouter/auto`` / ``openrouter/free``). ``:free`` ids come
first, then the rest, each group sorted by id.

Classification (pure, from the table below):

- **speed** from a measured probe latency: < 1.5 s ``fast``, < 4 s ``standard``, else ``slow``.
  Untested, from the parameter count in the id or name (``8b``, ``70b``, ``30b-a3b`` uses the
  active 3b, ``1t``): ≤ 12b ``fast``, ≤ 80b ``standard``, larger ``slow``; no hint: unknown.
- **quality**: ≤ 9b total parameters is ``basic``; else the first matching known family in
  ``KNOWN_FAMILIES``; else ≥ 100b ``high``, ≥ 24b ``standard``; else a context of ≥ 128k tokens
  ``standard``, smaller ``basic``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx

from modelrouter.catalog.schema import QualityClass, SpeedClass

DEFAULT_SOURCE = "https://openrouter.ai/api/v1/models"
PROVIDER = "openrouter"
ROUTER_IDS = frozenset({"openrouter/auto", "openrouter/free"})

FAST_LATENCY_S = 1.5
STANDARD_LATENCY_S = 4.0
FAST_MAX_ACTIVE_B = 12.0
STANDARD_MAX_ACTIVE_B = 80.0
BASIC_MAX_PARAMS_B = 9.0
LARGE_CONTEXT_TOKENS = 128_000

# Substrings of the lowercased OpenRouter id; the first match wins, so specific before general.
KNOWN_FAMILIES: tuple[tuple[str, QualityClass], ...] = (
    ("deepseek", QualityClass.HIGH),
    ("gpt-oss-120b", QualityClass.HIGH),
    ("gpt-oss-20b", QualityClass.STANDARD),
    ("qwen3-coder", QualityClass.HIGH),
    ("qwen3-235b", QualityClass.HIGH),
    ("qwen3", QualityClass.STANDARD),
    ("llama-3.1-405b", QualityClass.HIGH),
    ("llama-3.3-70b", QualityClass.STANDARD),
    ("nemotron-3-super", QualityClass.HIGH),
    ("nemotron", QualityClass.STANDARD),
    ("kimi-k2", QualityClass.HIGH),
    ("glm-4.5-air", QualityClass.STANDARD),
    ("glm-4", QualityClass.HIGH),
    ("minimax-m2", QualityClass.HIGH),
    ("gemma-3", QualityClass.STANDARD),
    ("gemma-4", QualityClass.STANDARD),
    ("mistral-small", QualityClass.STANDARD),
)

_SIZE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)([bt])(?:[-\s]a(\d+(?:\.\d+)?)b)?(?!\w)")


class SourceError(Exception):
    """The model list could not be read or is not OpenRouter's shape (one line for the user)."""


@dataclass(frozen=True, slots=True)
class FreeModel:
    """One free OpenRouter model, as listed (``id`` is OpenRouter's, without our prefix)."""

    id: str
    name: str
    context_tokens: int
    params_b: float | None = None  # total parameters, billions, from the id or name
    active_b: float | None = None  # active parameters of a mixture of experts, else params_b

    @property
    def model_id(self) -> str:
        """The catalog's form: ``openrouter:<id>``."""
        return f"{PROVIDER}:{self.id}"

    @property
    def quality(self) -> QualityClass:
        return quality_class(self)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "context_tokens": self.context_tokens,
                "params_b": self.params_b, "active_b": self.active_b}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FreeModel:
        return cls(str(data["id"]), str(data["name"]), int(data["context_tokens"]),
                   data.get("params_b"), data.get("active_b"))


# --------------------------------------------------------------------------- reading


def load_model_list(
    source: str, *, client: httpx.Client | None = None, timeout_s: float = 30.0
) -> Any:
    """The parsed JSON body of a file path or an http(s) URL; SourceError on any failure."""
    if source.startswith(("http://", "https://")):
        return _fetch(source, client, timeout_s)
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"cannot read {source}: {exc.strerror or exc}") from None
    return _parse_json(text, source)


def _fetch(url: str, client: httpx.Client | None, timeout_s: float) -> Any:
    owned = client is None
    http = client or httpx.Client(timeout=timeout_s, follow_redirects=True)
    try:
        response = http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise SourceError(f"cannot fetch {url}: {type(exc).__name__}: {exc}") from None
    finally:
        if owned:
            http.close()
    if response.status_code != 200:
        raise SourceError(f"cannot fetch {url}: HTTP {response.status_code}")
    return _parse_json(response.text, url)


def _parse_json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{source} is not JSON: {exc.msg} at line {exc.lineno}") from None


def free_models(data: Any, *, today: date | None = None) -> list[FreeModel]:
    """The free chat models in an OpenRouter ``/api/v1/models`` body, ``:free`` ids first."""
    from modelrouter.catalog.importers.openrouter import parse_openrouter
    from modelrouter.errors import CatalogError

    try:
        parsed = parse_openrouter(data, label="discovery",
                                  today=today or datetime.now(UTC).date())
    except CatalogError as exc:
        raise SourceError(str(exc)) from None
    outputs = {item["id"]: _output_modalities(item) for item in data["data"]
               if isinstance(item, dict) and isinstance(item.get("id"), str)}
    found: list[FreeModel] = []
    for entry in parsed.models:
        spec = entry.spec
        model_part = entry.model_id.split(":", 1)[1]
        if not spec["free"] or model_part in ROUTER_IDS:
            continue
        if outputs.get(model_part, {"text"}) != {"text"}:
            continue
        name = str(spec["metadata"]["name"])
        total, active = parameter_hint(model_part, name)
        found.append(FreeModel(model_part, name, int(spec["metadata"]["context_window_input"]),
                               total, active))
    found.sort(key=lambda m: (not m.id.endswith(":free"), m.id))
    return found


def _output_modalities(item: dict[str, Any]) -> set[str]:
    architecture = item.get("architecture")
    raw = architecture.get("output_modalities") if isinstance(architecture, dict) else None
    return {str(v) for v in raw} if isinstance(raw, list) and raw else {"text"}


# --------------------------------------------------------------------------- classifying


def parameter_hint(model_part: str, name: str = "") -> tuple[float | None, float | None]:
    """(total, active) parameters in billions from ``70b``, ``30b-a3b``, ``1t``; else None."""
    for text in (model_part.lower().split(":", 1)[0], name.lower()):
        match = _SIZE.search(text)
        if match:
            total = float(match.group(1)) * (1000 if match.group(2) == "t" else 1)
            active = float(match.group(3)) if match.group(3) else total
            return total, active
    return None, None


def speed_from_latency(latency_s: float) -> SpeedClass:
    if latency_s < FAST_LATENCY_S:
        return SpeedClass.FAST
    if latency_s < STANDARD_LATENCY_S:
        return SpeedClass.STANDARD
    return SpeedClass.SLOW


def speed_class(model: FreeModel, latency_s: float | None = None) -> SpeedClass | None:
    """Measured when a latency is given, else guessed from the size; None: unknown."""
    if latency_s is not None:
        return speed_from_latency(latency_s)
    if model.active_b is None:
        return None
    if model.active_b <= FAST_MAX_ACTIVE_B:
        return SpeedClass.FAST
    if model.active_b <= STANDARD_MAX_ACTIVE_B:
        return SpeedClass.STANDARD
    return SpeedClass.SLOW


def quality_class(model: FreeModel) -> QualityClass:
    if model.params_b is not None and model.params_b <= BASIC_MAX_PARAMS_B:
        return QualityClass.BASIC
    lowered = model.id.lower()
    for family, quality in KNOWN_FAMILIES:
        if family in lowered:
            return quality
    if model.params_b is not None:
        if model.params_b >= 100:
            return QualityClass.HIGH
        if model.params_b >= 24:
            return QualityClass.STANDARD
    if model.context_tokens >= LARGE_CONTEXT_TOKENS:
        return QualityClass.STANDARD
    return QualityClass.BASIC
