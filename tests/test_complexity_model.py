"""The complexity model's pieces: word-problem features, the blended parts and the learners."""

from __future__ import annotations

import gzip
import json
import random
import sys
from pathlib import Path

import pytest

from modelrouter.routing.complexity import route
from modelrouter.routing.complexity.features import (
    WORD_PROBLEM_FEATURES,
    extract,
    word_problem_features,
)
from modelrouter.routing.complexity.model import (
    WEIGHTS_FILE,
    ForestPart,
    load_model,
    parse_part,
    parse_weights,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import router_fit  # noqa: E402

NATALIA = ("Natalia sold clips to 48 of her friends in April, and then she sold half as many "
           "clips in May. How many clips did Natalia sell altogether in April and May?")
CHOICE = "Which of the following is NOT a prime number?\nA. 2\nB. 3\nC. 9\nD. 11\nAnswer:"


def test_word_problem_features_count_what_they_say() -> None:
    f = word_problem_features("Tom had $1,250.50 and spent 20% of it on 3 books. Each book "
                              "costs twice as much as a pen. How much money is left?")
    assert f["quantities"] == 3 and f["distinct_quantities"] == 3
    assert f["decimal_quantities"] == 1 and f["large_quantities"] == 1
    assert f["small_integers"] == 1 and f["percents"] == 1 and f["dollar_signs"] == 1
    assert f["multiplier_words"] == 1 and f["remainder_words"] == 1
    assert f["question_marks"] == 1 and f["question_words"] == 5  # "How much money is left"
    assert set(f) == set(WORD_PROBLEM_FEATURES)


def test_word_problem_features_only_for_open_prompts() -> None:
    assert set(WORD_PROBLEM_FEATURES) <= set(extract(NATALIA).named)
    assert not set(WORD_PROBLEM_FEATURES) & set(extract(CHOICE).named)
    assert set(WORD_PROBLEM_FEATURES) <= set(extract(CHOICE, word_problems=True).named)


def test_open_prompts_are_scored_by_ridge_and_trees() -> None:
    model = load_model()["families"]["open"]
    kinds = sorted(type(part).__name__ for part, *_ in model.parts)
    assert kinds == ["ForestPart", "LinearPart"]
    decision = route(NATALIA)
    assert decision.family == "open"
    names = [name for name, _ in decision.features_top]
    assert "trees" in names or len(names) == 5
    assert any(name in WORD_PROBLEM_FEATURES for name in
               load_model()["families"]["open"].contributions(extract(NATALIA)))


def test_raw_output_is_the_z_scored_blend_of_the_parts() -> None:
    model = load_model()["families"]["open"]
    features = extract(NATALIA)
    expected = sum(share * (part.output(features) - mean) / sd
                   for part, mean, sd, share in model.parts)
    assert model.raw(features) == pytest.approx(expected)
    total = sum(model.contributions(features).values())
    offsets = sum(share * (getattr(part, "bias", 0.0) - mean) / sd
                  for part, mean, sd, share in model.parts if not isinstance(part, ForestPart))
    assert total + offsets == pytest.approx(model.raw(features))


def test_shipped_forest_agrees_with_the_training_code() -> None:
    raw = json.loads(gzip.decompress((ROOT / "src/modelrouter/routing/complexity/data"
                                      / WEIGHTS_FILE).read_bytes()))
    body = next(p for p in raw["families"]["open"]["parts"] if p["kind"] == "forest")
    part = parse_part(body)[0]
    assert isinstance(part, ForestPart)
    for prompt in (NATALIA, "What is 2 + 2?", "Write a poem about the sea."):
        features = extract(prompt, word_problems=True)
        row = [features.named[name] for name in body["features"]]
        assert part.output(features) == pytest.approx(router_fit.predict_forest(body["trees"],
                                                                                row))


def test_weights_of_another_format_are_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match=r"retrain with tools/train_router\.py"):
        parse_weights({"format": 1, "hash_bits": 20, "families": {}})


def test_ridge_recovers_a_known_linear_model() -> None:
    rng = random.Random(1)
    x = [[rng.gauss(0, 1) for _ in range(3)] for _ in range(400)]
    y = [2.0 + 1.5 * a - 0.5 * b + 0.0 * c for a, b, c in x]
    bias, w = router_fit.ridge(x, y, alpha=1e-6)
    assert bias == pytest.approx(2.0, abs=1e-6)
    assert w == pytest.approx([1.5, -0.5, 0.0], abs=1e-6)
    _, shrunk = router_fit.ridge(x, y, alpha=1e4)
    assert abs(shrunk[0]) < 1.5 / 10  # a strong penalty pulls weights towards zero


def test_extra_trees_are_seeded_and_respect_the_leaf_size() -> None:
    rng = random.Random(2)
    columns = [[rng.random() for _ in range(300)] for _ in range(4)]
    y = [float(a > 0.5) for a in columns[0]]
    first = router_fit.extra_trees(columns, y, trees=20, min_leaf=10, max_features=0.5, seed=0)
    again = router_fit.extra_trees(columns, y, trees=20, min_leaf=10, max_features=0.5, seed=0)
    assert first == again
    other = router_fit.extra_trees(columns, y, trees=20, min_leaf=10, max_features=0.5, seed=1)
    assert other != first
    rows = list(zip(*columns, strict=True))
    for tree in first:
        leaves: dict[int, int] = {}
        for row in rows:
            at = 0
            while tree["feature"][at] >= 0:
                f = tree["feature"][at]
                at = tree["left"][at] if row[f] <= tree["threshold"][at] else tree["right"][at]
            leaves[at] = leaves.get(at, 0) + 1
        assert min(leaves.values()) >= 10
    # the signal is in column 0: the forest separates the two halves
    low = router_fit.predict_forest(first, [0.1, 0.5, 0.5, 0.5])
    high = router_fit.predict_forest(first, [0.9, 0.5, 0.5, 0.5])
    assert low < 0.3 < 0.7 < high


def test_linear_part_clips_features_to_the_training_range() -> None:
    body = {"kind": "linear", "z": [0.0, 1.0, 1.0], "bias": 0.0, "scale": 1, "buckets": [],
            "weights": [], "named": {"quantities": [2.0, 1.0, 1.0]},
            "bounds": {"quantities": [1.0, 5.0]}}
    part = parse_part(body)[0]
    far = extract("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20", word_problems=True)
    none = extract("no numbers at all", word_problems=True)
    assert part.output(far) == 3.0 and part.output(none) == -1.0  # (5 - 2), (1 - 2)
    del body["bounds"]
    assert parse_part(body)[0].output(far) == 18.0  # unbounded: extrapolates


def test_shipped_ridge_part_is_bounded() -> None:
    model = load_model()["families"]["open"]
    ridge = next(part for part, *_ in model.parts if not isinstance(part, ForestPart))
    assert ridge.bounds is not None and set(ridge.bounds) == set(ridge.named)
