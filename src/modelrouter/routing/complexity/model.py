"""The complexity scorer: a sparse linear model per prompt family, shipped as package data.

``score(request)`` is the probability-like rank of a request among the public benchmark
prompts of its family (0 = the easiest for the cheap model, 1 = most needs the strong model).
The weights file is written by ``tools/train_router.py`` and read once, on first use, from
``complexity/data/weights.json.gz``; nothing is loaded at import time and nothing is downloaded.

Two families, told apart by the prompt's shape: ``choice`` (multiple-choice questions, trained
on MMLU) and ``open`` (everything else, trained on GSM8K and MT-Bench).
"""

from __future__ import annotations

import bisect
import gzip
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from modelrouter.routing.complexity.features import Features, Request, extract

WEIGHTS_FILE = "weights.json.gz"
FAMILIES: tuple[str, ...] = ("choice", "open")
_MIN_OPTIONS = math.log1p(2)  # the "options" feature is log1p(option lines)


@dataclass(frozen=True, slots=True)
class FamilyModel:
    """One family's linear model and the map from its raw output to a score in [0, 1]."""

    bias: float
    named: dict[str, tuple[float, float, float]]  # name -> (mean, sd, weight)
    hashed: dict[int, float]
    knots: tuple[float, ...]  # raw outputs at the 0, 1, …, 100 % quantiles (out of fold)
    thresholds: dict[str, float]  # target quality ("0.95") -> score threshold

    def raw(self, features: Features) -> float:
        z = self.bias
        for name, value in features.named.items():
            params = self.named.get(name)
            if params is not None:
                z += params[2] * (value - params[0]) / params[1]
        hashed = self.hashed
        for bucket, value in features.hashed.items():
            z += hashed.get(bucket, 0.0) * value
        return z

    def contributions(self, features: Features) -> dict[str, float]:
        """Each named feature's share of the raw output, plus the n-grams' total."""
        out = {name: params[2] * (features.named[name] - params[0]) / params[1]
               for name, params in self.named.items() if name in features.named}
        out["ngrams"] = sum(self.hashed.get(b, 0.0) * v for b, v in features.hashed.items())
        return out

    def to_score(self, raw: float) -> float:
        """Piecewise-linear rank of ``raw`` among the calibration prompts, in [0, 1]."""
        knots = self.knots
        if raw <= knots[0]:
            return 0.0
        if raw >= knots[-1]:
            return 1.0
        j = bisect.bisect_right(knots, raw)
        lo, hi = knots[j - 1], knots[j]
        frac = 0.0 if hi == lo else (raw - lo) / (hi - lo)
        return (j - 1 + frac) / (len(knots) - 1)


@dataclass(frozen=True, slots=True)
class Scored:
    """A scored request: its family, score in [0, 1] and the features behind it."""

    family: str
    score: float
    raw: float
    features: Features


def family_of(features: Features) -> str:
    """``choice`` for multiple-choice prompts (two or more option lines), else ``open``."""
    return "choice" if features.named.get("options", 0.0) >= _MIN_OPTIONS else "open"


@lru_cache(maxsize=1)
def load_model() -> dict[str, Any]:
    """The shipped weights, parsed once (lazily, on the first score)."""
    packed = resources.files("modelrouter.routing.complexity").joinpath(
        "data", WEIGHTS_FILE).read_bytes()
    return parse_weights(json.loads(gzip.decompress(packed).decode("utf-8")))


def parse_weights(data: dict[str, Any]) -> dict[str, Any]:
    families = {
        name: FamilyModel(
            bias=float(body["bias"]),
            named={k: (float(v[0]), float(v[1]), float(v[2])) for k, v in body["named"].items()},
            hashed=dict(zip(body["buckets"], (w / body["scale"] for w in body["weights"]),
                            strict=True)),
            knots=tuple(float(x) for x in body["knots"]),
            thresholds={k: float(v) for k, v in body["thresholds"].items()},
        )
        for name, body in data["families"].items()
    }
    return {"hash_bits": data["hash_bits"], "families": families}


def family_model(family: str) -> FamilyModel:
    model: FamilyModel = load_model()["families"][family]
    return model


def score_details(request: Request) -> Scored:
    """Score a request and keep what explains it."""
    features = extract(request)
    family = family_of(features)
    model = family_model(family)
    raw = model.raw(features)
    return Scored(family, model.to_score(raw), raw, features)


def score(request: Request) -> float:
    """How much a request needs the strong model, in [0, 1]; deterministic, offline.

    ``request`` is a prompt string or OpenAI-style chat messages (the last user turn is scored).
    """
    return score_details(request).score
