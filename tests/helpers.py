"""Small builders for tests: catalog files in a temporary directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def model_doc(model_id: str, **overrides: Any) -> dict[str, Any]:
    provider, _, name = model_id.partition(":")
    doc: dict[str, Any] = {
        "model_id": model_id,
        "provider": provider,
        "metadata": {
            "name": name,
            "api_identifier": name,
            "aliases": [],
            "context_window_input": 128000,
            "context_window_output": 8192,
            "last_verified": "2026-11-25",
        },
        "capabilities": ["text_input", "text_output", "streaming"],
        "pricing_ref": f"{provider}/{name}",
        "free": False,
        "speed_class": "fast",
        "quality_class": "standard",
    }
    for key, value in overrides.items():
        if key == "metadata":
            doc["metadata"].update(value)
        else:
            doc[key] = value
    return doc


def write_model(root: Path, doc: dict[str, Any], filename: str | None = None) -> Path:
    folder = root / "models" / doc["provider"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (filename or doc["model_id"].split(":", 1)[1].replace("/", "--") + ".yaml")
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def write_pricing(root: Path, provider: str, versions: list[dict[str, Any]]) -> Path:
    folder = root / "pricing"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{provider}.yaml"
    doc = {"provider": provider, "currency": "USD", "unit": "per_million_tokens",
           "pricing_versions": versions}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path
