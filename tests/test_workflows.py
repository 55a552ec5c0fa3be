"""The workflow patterns, through a real Router against the fake provider on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from modelrouter.catalog.pricing import Usage
from modelrouter.routing.records import AttemptRecord
from modelrouter.routing.router import RouterResult
from modelrouter.routing.validators import custom, valid_json
from modelrouter.testing import FakeProvider, Fault
from modelrouter.workflows import (
    WorkflowResult,
    analyze_then_generate,
    iterative_refine,
    plan_parallel_combine,
    single_shot,
)
from modelrouter.workflows.patterns import parse_plan, pick_label, roll_up
from tests.router_fixtures import Rig, make_router

# Paid models with known prices, one per tier, so every step costs something.
CONFIG = """
[tiers.fast]
models = ["openai:gpt-5-nano"]
timeout_ms = 5000

[tiers.balanced]
models = ["openai:gpt-5-mini"]
timeout_ms = 5000

[tiers.advanced]
models = ["openai:gpt-5"]
timeout_ms = 5000

[retry]
max_retries = 1
base_delay_ms = 10
max_delay_ms = 20
"""
FAST, BALANCED, ADVANCED = "gpt-5-nano", "gpt-5-mini", "gpt-5"


def rig(fake: FakeProvider, tmp_path: Path) -> Rig:
    return make_router(fake, tmp_path, config=CONFIG, real_clock=True)


def run(r: Rig, workflow: Callable[..., Awaitable[WorkflowResult]], *args: Any,
        **kwargs: Any) -> WorkflowResult:
    async def go() -> WorkflowResult:
        try:
            return await workflow(r.router, *args, **kwargs)
        finally:
            await r.router.aclose()

    return asyncio.run(go())


def assert_cost_rolls_up(result: WorkflowResult, r: Rig) -> None:
    """The total is the exact sum over every attempt of every step, and equals what the
    router handed to the usage sink."""
    attempts = [a for _, step in result.steps for a in step.attempts]
    expected = sum((a.cost_usd for a in attempts if a.cost_usd is not None), Decimal(0))
    assert result.total_cost_usd == expected
    assert result.total_cost_usd == sum(
        (rec.cost_usd for rec in r.sink.records if rec.cost_usd is not None), Decimal(0))
    assert result.total_cost_usd > 0 and result.cost_known
    assert result.total_tokens == sum(a.usage.total_tokens for a in attempts if a.usage)
    assert result.elapsed_s > 0


# --------------------------------------------------------------------------- single shot


@pytest.mark.parametrize(("label_reply", "label", "model"), [
    ("simple", "simple", "openai:gpt-5-nano"),
    ("Medium.", "medium", "openai:gpt-5-mini"),
    ("This is complex", "complex", "openai:gpt-5"),
    ("banana", "complex", "openai:gpt-5"),  # no label: the most capable one
])
def test_single_shot_classifies_fast_then_answers_on_the_mapped_tier(
    fake: FakeProvider, tmp_path: Path, label_reply: str, label: str, model: str
) -> None:
    r = rig(fake, tmp_path)
    fake.configure(FAST, reply=label_reply)
    result = run(r, single_shot, "Why is the sky blue?")
    assert [name for name, _ in result.steps] == ["classify", "generate"]
    classify = result.steps[0][1]
    assert classify.model == "openai:gpt-5-nano" and classify.tier == "fast"
    assert result.label == label and result.steps[1][1].model == model
    assert result.text == result.steps[1][1].text
    sent = fake.requests[0].body
    assert "simple, medium, complex" in sent["messages"][0]["content"]
    assert sent["temperature"] == 0.0
    assert_cost_rolls_up(result, r)


def test_single_shot_with_custom_labels_and_mapping(fake: FakeProvider, tmp_path: Path) -> None:
    r = rig(fake, tmp_path)
    fake.configure(FAST, reply="code")
    result = run(r, single_shot, "Write a quicksort", labels=("chat", "code"),
                 tiers={"chat": "fast", "code": "advanced"})
    assert result.label == "code" and result.steps[1][1].tier == "advanced"
    with pytest.raises(ValueError, match="no tier for label"):
        asyncio.run(single_shot(r.router, "x", labels=("weird",)))


def test_pick_label() -> None:
    labels = ("simple", "medium", "complex")
    assert pick_label(" Complex\n", labels) == "complex"
    assert pick_label("I'd say medium, maybe complex", labels) == "medium"
    assert pick_label("simpler", labels) is None


# --------------------------------------------------------------------------- plan → sections


PLAN = "Here is the plan:\n1. Intro\n2) Body\n3. **Risks**\n4. Costs\n5. Summary\n6. Extra"


def test_plan_parallel_combine_bounds_concurrency_and_keeps_order(
    fake: FakeProvider, tmp_path: Path
) -> None:
    r = rig(fake, tmp_path)
    fake.configure(ADVANCED, reply=PLAN)
    fake.script(FAST, [Fault.server_error(500)] + [Fault.hang(0.15)] * 5)  # one retry
    in_flight = peak = 0
    chat = r.router.chat

    async def counting_chat(*args: Any, **kwargs: Any) -> RouterResult:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            return await chat(*args, **kwargs)
        finally:
            in_flight -= 1

    r.router.chat = counting_chat  # type: ignore[method-assign]
    result = run(r, plan_parallel_combine, "A guide to HTTP caching", max_sections=5,
                 concurrency=2, plan_tier="advanced", section_tier="fast",
                 combine_tier="balanced")
    assert peak == 2
    names = [name for name, _ in result.steps]
    assert names == ["plan", *(f"section {i}" for i in range(1, 6)), "combine"]
    assert fake.calls(FAST) == 6  # five sections, one of them retried once
    section_prompts = [q.body["messages"][-1]["content"] for q in fake.requests
                       if q.model == FAST]
    assert all("1. Intro\n2. Body\n3. Risks\n4. Costs\n5. Summary" in p
               for p in section_prompts)
    assert "Extra" not in section_prompts[0]
    combine = next(q for q in fake.requests if q.model == BALANCED)
    combined_prompt = combine.body["messages"][-1]["content"]
    positions = [combined_prompt.index(f"## {t}") for t in
                 ("Intro", "Body", "Risks", "Costs", "Summary")]
    assert positions == sorted(positions)
    for number, (_, step) in enumerate(result.steps[1:6], 1):
        assert f"section {number}" in step.text  # the fake echoes the section's prompt
    assert result.text == result.steps[-1][1].text
    assert len(result.steps[1][1].attempts) + sum(
        len(s.attempts) for _, s in result.steps[2:6]) == 6
    assert_cost_rolls_up(result, r)


def test_plan_without_a_numbered_list_is_one_section(fake: FakeProvider, tmp_path: Path) -> None:
    r = rig(fake, tmp_path)
    fake.configure(BALANCED, reply="I would just write it.")
    result = run(r, plan_parallel_combine, "Say hi")
    assert [name for name, _ in result.steps] == ["plan", "section 1", "combine"]


def test_parse_plan() -> None:
    assert parse_plan(PLAN, 3) == ["Intro", "Body", "Risks"]
    assert parse_plan("no list here", 5) == []


# --------------------------------------------------------------------------- analyse → answer


def test_analyze_then_generate_feeds_the_analysis_to_a_cheaper_model(
    fake: FakeProvider, tmp_path: Path
) -> None:
    r = rig(fake, tmp_path)
    fake.configure(ADVANCED, reply="FACTS: renews yearly on 1 March")
    result = run(r, analyze_then_generate, "CONTRACT BODY " * 50, "When does it renew?")
    assert [(name, step.model) for name, step in result.steps] == [
        ("analyze", "openai:gpt-5"), ("generate", "openai:gpt-5-mini")]
    [analysis_req] = [q for q in fake.requests if q.model == ADVANCED]
    [generate_req] = [q for q in fake.requests if q.model == BALANCED]
    assert "CONTRACT BODY" in analysis_req.body["messages"][-1]["content"]
    prompt = generate_req.body["messages"][-1]["content"]
    assert "FACTS: renews yearly on 1 March" in prompt and "CONTRACT BODY" not in prompt
    assert_cost_rolls_up(result, r)


# --------------------------------------------------------------------------- refine


def test_refine_stops_after_three_failed_rounds(fake: FakeProvider, tmp_path: Path) -> None:
    r = rig(fake, tmp_path)
    fake.configure(BALANCED, reply="not json at all")
    result = run(r, iterative_refine, "Three colours as a JSON list", validator=valid_json())
    assert (result.rounds, result.passed) == (3, False)
    assert fake.calls(BALANCED) == 3
    assert [name for name, _ in result.steps] == ["generate", "fix 1", "fix 2"]
    last = fake.requests[-1].body["messages"]
    assert len(last) == 5  # prompt, answer, fix request, answer, fix request
    assert last[1] == {"role": "assistant", "content": "not json at all"}
    assert "rejected by the json check: not valid JSON" in last[2]["content"]
    assert_cost_rolls_up(result, r)


def test_refine_passes_on_the_round_the_validator_accepts(
    fake: FakeProvider, tmp_path: Path
) -> None:
    r = rig(fake, tmp_path)
    seen: list[str] = []

    def second_time_lucky(response: Any) -> bool | str:
        seen.append(response.text)
        return len(seen) >= 2 or "too short"

    result = run(r, iterative_refine, "Write a haiku", validator=custom(second_time_lucky))
    assert (result.rounds, result.passed) == (2, True)
    assert fake.calls(BALANCED) == 2
    assert "too short" in fake.requests[-1].body["messages"][-1]["content"]


def test_refine_first_answer_passes(fake: FakeProvider, tmp_path: Path) -> None:
    r = rig(fake, tmp_path)
    fake.configure(BALANCED, reply='["red", "green", "blue"]')
    result = run(r, iterative_refine, "Colours", validator=valid_json())
    assert (result.rounds, result.passed, fake.calls()) == (1, True, 1)
    with pytest.raises(ValueError, match="max_rounds"):
        asyncio.run(iterative_refine(r.router, "x", validator=valid_json(), max_rounds=4))


# --------------------------------------------------------------------------- roll-up


def test_unknown_costs_are_counted_apart_from_the_total() -> None:
    def attempt(cost: str | None, usage: bool = True) -> AttemptRecord:
        return AttemptRecord(
            request_id="r", time=datetime.now(UTC), model="m", provider="p", tier="fast",
            outcome="success" if usage else "error", fallback_depth=0, free=False,
            usage=Usage(10, 5) if usage else None,
            cost_usd=None if cost is None else Decimal(cost))

    step = SimpleNamespace(attempts=[attempt("0.000001"), attempt(None),
                                     attempt(None, usage=False), attempt("0.1")])
    total, unknown, tokens = roll_up([step])  # type: ignore[list-item]
    assert (total, unknown, tokens) == (Decimal("0.100001"), 1, 45)
