"""The complexity scorer: a small model per prompt family, shipped as package data.

``score(request)`` is the probability-like rank of a request among the public benchmark
prompts of its family (0 = the easiest for the cheap model, 1 = most needs the strong model).
The weights file is written by ``tools/train_router.py`` and read once, on first use, from
``complexity/data/weights.json.gz``; nothing is loaded at import time and nothing is downloaded.

Two families, told apart by the prompt's shape: ``choice`` (multiple-choice questions, trained
on MMLU: a sparse linear model over named features and hashed n-grams) and ``open`` (everything
else, trained on GSM8K and MT-Bench: a ridge model and extra trees over the named and
word-problem features, blended as z-scores).
"""

from __future__ import annotations

import bisect
import gzip
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from modelrouter.routing.complexity.features import (
    Features,
    Request,
    extract,
    is_multiple_choice,
)

WEIGHTS_FILE = "weights.json.gz"
WEIGHTS_FORMAT = 2
FAMILIES: tuple[str, ...] = ("choice", "open")


@dataclass(frozen=True, slots=True)
class LinearPart:
    """A linear model over named features (standardised) and hashed n-grams.

    With ``bounds``, a named feature is first clipped to the range seen in training, so a
    prompt unlike the training data cannot push the output arbitrarily far (a linear model
    extrapolates; the trees do not).
    """

    bias: float
    named: dict[str, tuple[float, float, float]]  # name -> (mean, sd, weight)
    hashed: dict[int, float]
    bounds: dict[str, tuple[float, float]] | None = None  # name -> (min, max) in training

    def _value(self, features: Features, name: str) -> float:
        value = features.named.get(name, 0.0)
        if self.bounds is not None and name in self.bounds:
            lo, hi = self.bounds[name]
            value = lo if value < lo else hi if value > hi else value
        return value

    def output(self, features: Features) -> float:
        z = self.bias
        for name, (mean, sd, weight) in self.named.items():
            z += weight * (self._value(features, name) - mean) / sd
        hashed = self.hashed
        if hashed:
            for bucket, value in features.hashed.items():
                z += hashed.get(bucket, 0.0) * value
        return z

    def contributions(self, features: Features) -> dict[str, float]:
        out = {name: weight * (self._value(features, name) - mean) / sd
               for name, (mean, sd, weight) in self.named.items()}
        if self.hashed:
            out["ngrams"] = sum(self.hashed.get(b, 0.0) * v for b, v in features.hashed.items())
        return out


@dataclass(frozen=True, slots=True)
class ForestPart:
    """Regression trees over named features (raw values), averaged."""

    names: tuple[str, ...]
    trees: tuple[tuple[list[int], list[float], list[int], list[int], list[float]], ...]

    def output(self, features: Features) -> float:
        named = features.named
        row = [named.get(name, 0.0) for name in self.names]
        total = 0.0
        for feature, threshold, left, right, value in self.trees:
            at = 0
            while (f := feature[at]) >= 0:
                at = left[at] if row[f] <= threshold[at] else right[at]
            total += value[at]
        return total / len(self.trees)


@dataclass(frozen=True, slots=True)
class FamilyModel:
    """One family's parts, blended as z-scores, and the map from the blend to [0, 1]."""

    parts: tuple[tuple[LinearPart | ForestPart, float, float, float], ...]  # part, mean, sd, share
    knots: tuple[float, ...]  # raw outputs at the 0, 1, …, 100 % quantiles (out of fold)
    thresholds: dict[str, float]  # target quality ("0.95") -> score threshold
    cascade_thresholds: dict[str, float] | None = None  # the same for router + self-check

    def outputs(self, features: Features) -> tuple[float, ...]:
        """Each part's own output, in ``parts`` order."""
        return tuple(part.output(features) for part, *_ in self.parts)

    def blend(self, outputs: tuple[float, ...]) -> float:
        """The raw output: the parts' outputs as z-scores, weighted by their shares."""
        return sum(share * (value - mean) / sd
                   for (_, mean, sd, share), value in zip(self.parts, outputs, strict=True))

    def raw(self, features: Features) -> float:
        return self.blend(self.outputs(features))

    def contributions(self, features: Features,
                      outputs: tuple[float, ...] | None = None) -> dict[str, float]:
        """Each named feature's share of the raw output, the n-grams' and the trees' totals.

        ``outputs`` (from :meth:`outputs`) saves walking the trees a second time.
        """
        out: dict[str, float] = {}
        for index, (part, mean, sd, share) in enumerate(self.parts):
            if isinstance(part, ForestPart):
                value = part.output(features) if outputs is None else outputs[index]
                out["trees"] = out.get("trees", 0.0) + share * (value - mean) / sd
                continue
            for name, value in part.contributions(features).items():
                out[name] = out.get(name, 0.0) + share * value / sd
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
    outputs: tuple[float, ...]  # each part's output, for explaining without recomputing


def family_of(features: Features) -> str:
    """``choice`` for multiple-choice prompts (two or more option lines), else ``open``."""
    return "choice" if is_multiple_choice(features.named) else "open"


@lru_cache(maxsize=1)
def load_model() -> dict[str, Any]:
    """The shipped weights, parsed once (lazily, on the first score)."""
    packed = resources.files("modelrouter.routing.complexity").joinpath(
        "data", WEIGHTS_FILE).read_bytes()
    return parse_weights(json.loads(gzip.decompress(packed).decode("utf-8")))


def parse_weights(data: dict[str, Any]) -> dict[str, Any]:
    """Weights JSON (format 2) -> family models."""
    if data.get("format") != WEIGHTS_FORMAT:
        raise ValueError(f"complexity weights format {data.get('format')!r}, "
                         f"expected {WEIGHTS_FORMAT}; retrain with tools/train_router.py")
    families = {
        name: FamilyModel(
            parts=tuple(parse_part(part) for part in body["parts"]),
            knots=tuple(float(x) for x in body["knots"]),
            thresholds={k: float(v) for k, v in body["thresholds"].items()},
            cascade_thresholds=({k: float(v) for k, v in body["cascade_thresholds"].items()}
                                if "cascade_thresholds" in body else None),
        )
        for name, body in data["families"].items()
    }
    return {"hash_bits": data["hash_bits"], "families": families}


def parse_part(body: dict[str, Any]) -> tuple[LinearPart | ForestPart, float, float, float]:
    """One blended part: the model and its (mean, sd, share) on the training prompts."""
    mean, sd, share = (float(x) for x in body["z"])
    part: LinearPart | ForestPart
    if body["kind"] == "forest":
        part = ForestPart(
            names=tuple(body["features"]),
            trees=tuple((t["feature"], [float(x) for x in t["threshold"]], t["left"], t["right"],
                         [float(x) for x in t["value"]]) for t in body["trees"]))
    else:
        part = LinearPart(
            bias=float(body["bias"]),
            named={k: (float(v[0]), float(v[1]), float(v[2])) for k, v in body["named"].items()},
            hashed=dict(zip(body["buckets"], (w / body["scale"] for w in body["weights"]),
                            strict=True)),
            bounds=({k: (float(v[0]), float(v[1])) for k, v in body["bounds"].items()}
                    if "bounds" in body else None))
    return part, mean, sd, share


def family_model(family: str) -> FamilyModel:
    model: FamilyModel = load_model()["families"][family]
    return model


def score_details(request: Request) -> Scored:
    """Score a request and keep what explains it."""
    features = extract(request)
    family = family_of(features)
    model = family_model(family)
    outputs = model.outputs(features)
    raw = model.blend(outputs)
    return Scored(family, model.to_score(raw), raw, features, outputs)


def score(request: Request) -> float:
    """How much a request needs the strong model, in [0, 1]; deterministic, offline.

    ``request`` is a prompt string or OpenAI-style chat messages (the last user turn is scored).
    """
    return score_details(request).score
