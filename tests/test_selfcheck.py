"""The free self-check and auto:cascade: arithmetic checks, the validator, the benchmark sweep,
and the router escalating a cheap answer the check rejects."""

from __future__ import annotations

import asyncio
import itertools
import random
from pathlib import Path

import pytest

from modelrouter.adapters.base import Response
from modelrouter.catalog.pricing import Usage
from modelrouter.errors import ConfigError, ValidationFailedError
from modelrouter.routing.complexity import parse_auto_spec, route
from modelrouter.routing.complexity.cascade import cheapest_hybrid, hybrid_point
from modelrouter.routing.selfcheck import arithmetic_errors, evaluate, inadequacy
from modelrouter.routing.validators import from_settings, self_check
from modelrouter.testing import FakeProvider
from tests.router_fixtures import make_router

WORD_PROBLEM = ("Tom has 3 apples. He eats one. How many are left?")


@pytest.mark.parametrize(("text", "wrong"), [
    ("60 * 3 = <<60*3=170>>170 downloads", ["60*3 = 170 (is 180)"]),
    ("So 2 + 2 = 5 apples.", ["2 + 2 = 5 (is 4)"]),
    ("7 - 2 = 4 left", ["7 - 2 = 4 (is 5)"]),
    ("$12.50 + $3 = $15.50 in all", []),
    ("He pays 1,200 + 300 = 1,500 dollars", []),
    ("10 / 3 = 3 people per car", []),  # rounded to a whole number: fine
    ("1 / 3 = 0.33 of the cake", []),  # rounded to two places: fine
    ("From 2020-2021 = 1 season", []),  # a range, not a subtraction
    ("5 - 3 = 2 - 1 = 1", []),
    ("20% of 50 = 10", []),
    ("<<2*3=6>>6 and <<6+1=8>>8", ["6+1 = 8 (is 7)"]),
])
def test_arithmetic_errors(text: str, wrong: list[str]) -> None:
    assert arithmetic_errors(text) == wrong


def test_evaluate_is_plain_arithmetic_only() -> None:
    assert evaluate("(2 + 3) * 4 / 2") == 10.0
    assert evaluate("-3 + 1,000") == 997.0
    for hostile in ("__import__('os').system('x')", "2 ** 999999", "1 / 0", "a + 1",
                    "(" * 500 + "1" + ")" * 500, "True + 1"):
        assert evaluate(hostile) is None


def test_inadequacy_reasons() -> None:
    assert inadequacy("  ") == "the answer is empty"
    assert inadequacy("The answer is 4", "length") == "the answer was cut off by the token limit"
    assert inadequacy("First 3 * 4 = <<3*4=") == "the answer stops inside a calculation"
    assert inadequacy("2 + 2 = 5").startswith("wrong arithmetic: 2 + 2 = 5")
    assert inadequacy("2 + 2 = 4, so the answer is 4.", "stop") is None
    assert inadequacy("Paris is the capital of France.") is None


def test_self_check_validator_and_config_kind() -> None:
    def answer(text: str) -> Response:
        return Response(text=text, finish_reason="stop", usage=Usage(10, 5))

    check = from_settings("self_check", "sc", {})
    assert check.name == "sc"
    check.validate(answer("3 + 4 = 7"))
    with pytest.raises(ValidationFailedError, match=r"3 \+ 4 = 8"):
        self_check().validate(answer("3 + 4 = 8"))
    with pytest.raises(ConfigError, match="self_check"):
        from_settings("bogus", "x", {})


@pytest.mark.parametrize(("spec", "expected"), [
    ("auto", (None, False)), ("auto:0.3", (0.3, False)), ("auto:cascade", (None, True)),
    ("AUTO:Cascade:0.7", (0.7, True)),
])
def test_parse_auto_spec(spec: str, expected: tuple[float | None, bool]) -> None:
    assert parse_auto_spec(spec) == expected


@pytest.mark.parametrize("spec", ["auto:cascade:2", "auto:cascad", "cascade"])
def test_parse_auto_spec_rejects(spec: str) -> None:
    with pytest.raises(ConfigError):
        parse_auto_spec(spec)


def test_cascade_threshold_is_calibrated_for_router_plus_self_check() -> None:
    one_shot, cascade = route(WORD_PROBLEM), route(WORD_PROBLEM, cascade=True)
    assert cascade.cascade and not one_shot.cascade
    assert cascade.score == one_shot.score
    # the self-check recovers quality, so fewer prompts need to go straight to strong
    assert cascade.threshold >= one_shot.threshold
    assert route(WORD_PROBLEM, cascade=True, threshold=0.0).tier == "advanced"
    assert not route(WORD_PROBLEM, cascade=True, threshold=0.0).self_checked


def test_cheapest_hybrid_matches_brute_force() -> None:
    rng = random.Random(3)
    for _ in range(30):
        n = rng.randint(1, 25)
        rows = [{"strong_correct": rng.choice([0, 1, 1]), "weak_correct": rng.choice([0, 1])}
                for _ in range(n)]
        scores = [rng.choice([0.1, 0.2, 0.5, 0.7, 0.9]) for _ in range(n)]
        rejected = [rng.random() < 0.3 for _ in range(n)]
        costs = ([rng.uniform(1, 3) for _ in range(n)], [rng.uniform(0, 0.05) for _ in range(n)])
        target = rng.choice([0.8, 0.95, 1.0])
        found = cheapest_hybrid(rows, scores, rejected, costs, target)
        points = [hybrid_point(rows, scores, rejected, costs, t)
                  for t in itertools.chain(set(scores), [float("inf")])]
        ok = [p for p in points if p.quality_pct_of_strong >= 100 * target - 1e-9]
        if not ok:
            assert found is None
            continue
        assert found is not None
        assert found.cost_saving_pct == pytest.approx(max(p.cost_saving_pct for p in ok))


def test_hybrid_point_counts_escalations_and_costs() -> None:
    rows = [{"strong_correct": 1, "weak_correct": 0}, {"strong_correct": 1, "weak_correct": 1},
            {"strong_correct": 1, "weak_correct": 0}]
    costs = ([10.0, 10.0, 10.0], [1.0, 1.0, 1.0])
    point = hybrid_point(rows, [0.9, 0.1, 0.1], [False, False, True], costs, 0.5)
    assert point.direct_strong_pct == pytest.approx(100 / 3)
    assert point.escalated_pct == pytest.approx(100 / 3)
    assert point.quality == 1.0  # direct, weak right, escalated
    assert point.cost_saving_pct == pytest.approx(100 * (1 - (10 + 1 + 11) / 30))


def test_router_escalates_a_cheap_answer_with_wrong_arithmetic(fake: FakeProvider,
                                                                tmp_path: Path) -> None:
    rig = make_router(fake, tmp_path)
    messages = [{"role": "user", "content": WORD_PROBLEM}]
    target = rig.router.resolve(model="auto:cascade:0.999", messages=messages)
    assert target.tier == "balanced" and target.auto is not None and target.auto.self_checked
    strong = rig.router.resolve(tier="advanced").models
    fake.configure("*", reply="He had 3 apples and ate 1, so 3 - 1 = 1 apple is left.")
    for model_id in strong:
        fake.configure(model_id.split(":", 1)[1], reply="3 - 1 = 2, so 2 apples are left.")

    async def go() -> tuple[str, str, str]:
        try:
            result = await rig.router.chat(messages, model="auto:cascade:0.999")
            plain = await rig.router.chat(messages, model="auto:0.999")
            return result.tier, result.text, plain.tier
        finally:
            await rig.router.aclose()

    tier, text, plain_tier = asyncio.run(go())
    assert (tier, text) == ("advanced", "3 - 1 = 2, so 2 apples are left.")
    assert plain_tier == "balanced"  # without the cascade, the wrong answer is returned
    outcomes = [r.outcome for r in rig.sink.records]
    assert outcomes[:2] == ["validation_failed", "success"]
    assert rig.sink.records[0].tier == "balanced" and rig.sink.records[1].tier == "advanced"
