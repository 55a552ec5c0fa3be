"""The seed's workflow patterns: small async functions over a ``Router``, each with a cost
roll-up of every call it made (retries, fallbacks and rejected answers included).

Single shot: a fast model picks the label, the label picks the tier of the answer::

    result = await single_shot(router, "Prove that sqrt(2) is irrational")
    result.label, result.text, result.total_cost_usd

Plan, write sections in parallel (at most ``concurrency`` at once), combine::

    result = await plan_parallel_combine(router, "A guide to HTTP caching", max_sections=4)
    [name for name, _ in result.steps]  # ["plan", "section 1", ..., "combine"]

Analyse with a strong model, then answer with a cheaper one::

    result = await analyze_then_generate(router, contract_text, "List the renewal terms")

Generate, validate, ask for a fix with the validator's reason; at most ``max_rounds``::

    result = await iterative_refine(router, "Three colours as a JSON list", validator=valid_json())
    result.passed, result.rounds

A step that fails (every model failed) raises the router's error; nothing is retried here.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from modelrouter.routing.router import Router, RouterResult
from modelrouter.routing.validators import Validator

DEFAULT_LABEL_TIERS: Mapping[str, str] = {
    "simple": "fast",
    "medium": "balanced",
    "complex": "advanced",
}
MAX_REFINE_ROUNDS = 3
Message = dict[str, Any]


@dataclass
class WorkflowResult:
    """The final text, every step's router result in order, and what the run cost.

    ``total_cost_usd`` is the exact sum of every attempt's ``cost_usd`` over every step;
    ``unknown_cost_attempts`` counts billed attempts (they reported usage) whose price is
    unknown, which the total therefore leaves out.
    """

    text: str
    steps: list[tuple[str, RouterResult]]
    total_cost_usd: Decimal
    unknown_cost_attempts: int
    total_tokens: int
    elapsed_s: float
    label: str | None = None  # single_shot: the label the classifier chose
    rounds: int | None = None  # iterative_refine: answers generated
    passed: bool | None = None  # iterative_refine: did the last answer pass

    @property
    def cost_known(self) -> bool:
        return self.unknown_cost_attempts == 0


@dataclass
class _Run:
    """Collects the steps of one workflow run, in the order they finished being asked."""

    router: Router
    started: float = field(default_factory=time.perf_counter)
    steps: list[tuple[str, RouterResult]] = field(default_factory=list)

    async def ask(self, name: str, messages: Sequence[Message], **options: Any) -> RouterResult:
        result = await self.router.chat(messages, **options)
        self.steps.append((name, result))
        return result

    def finish(self, text: str, **extra: Any) -> WorkflowResult:
        total, unknown, tokens = roll_up(result for _, result in self.steps)
        return WorkflowResult(text, list(self.steps), total, unknown, tokens,
                              time.perf_counter() - self.started, **extra)


def roll_up(results: Iterable[RouterResult]) -> tuple[Decimal, int, int]:
    """(exact cost, attempts with usage but no known cost, tokens) over every attempt."""
    total = Decimal(0)
    unknown = tokens = 0
    for result in results:
        for attempt in result.attempts:
            if attempt.usage is not None:
                tokens += attempt.usage.total_tokens
            if attempt.cost_usd is not None:
                total += attempt.cost_usd
            elif attempt.usage is not None:
                unknown += 1
    return total, unknown, tokens


def _user(text: str, system: str | None = None) -> list[Message]:
    head: list[Message] = [{"role": "system", "content": system}] if system else []
    return [*head, {"role": "user", "content": text}]


# --------------------------------------------------------------------------- 1. single shot


def pick_label(text: str, labels: Sequence[str]) -> str | None:
    """The label a classifier answered: an exact answer, else the first label named."""
    answer = text.strip().strip(".\"'`*").lower()
    lowered = {label.lower(): label for label in labels}
    if answer in lowered:
        return lowered[answer]
    hits = [(m.start(), label) for key, label in lowered.items()
            if (m := re.search(rf"\b{re.escape(key)}\b", answer))]
    return min(hits)[1] if hits else None


async def single_shot(
    router: Router,
    prompt: str,
    *,
    labels: Sequence[str] | None = None,
    tiers: Mapping[str, str] = DEFAULT_LABEL_TIERS,
    classify_tier: str = "fast",
    default_label: str | None = None,
) -> WorkflowResult:
    """Classify ``prompt`` with ``classify_tier`` into one of ``labels`` (default: the keys
    of ``tiers``), then answer it on the tier mapped from the label. An answer that names no
    label falls back to ``default_label`` (default: the last label, the most capable tier:
    a misread costs money, not quality)."""
    labels = tuple(labels or tiers)
    if not labels:
        raise ValueError("single_shot needs at least one label")
    unmapped = [label for label in labels if label not in tiers]
    if unmapped:
        raise ValueError(f"no tier for label(s) {', '.join(unmapped)}: add them to tiers=")
    fallback = default_label or labels[-1]
    run = _Run(router)
    system = ("Classify the user's request. Answer with exactly one of these labels and "
              f"nothing else: {', '.join(labels)}.")
    # No tight max_tokens: a reasoning model would spend it thinking and answer nothing.
    verdict = await run.ask("classify", _user(prompt, system), tier=classify_tier,
                            temperature=0.0)
    label = pick_label(verdict.text, labels) or fallback
    answer = await run.ask("generate", _user(prompt), tier=tiers[label])
    return run.finish(answer.text, label=label)


# --------------------------------------------------------------------------- 2. plan → sections


_NUMBERED = re.compile(r"^\s*(\d+)[.)]\s+(.+?)\s*$")


def parse_plan(text: str, max_sections: int) -> list[str]:
    """Section titles from a numbered list (``1. Intro`` or ``2) Body``), at most
    ``max_sections``; markdown emphasis is dropped."""
    titles = []
    for line in text.splitlines():
        match = _NUMBERED.match(line)
        if match:
            title = match.group(2).strip("*_ ")
            if title:
                titles.append(title)
    return titles[:max_sections]


async def plan_parallel_combine(
    router: Router,
    task: str,
    *,
    max_sections: int = 5,
    concurrency: int = 3,
    plan_tier: str = "balanced",
    section_tier: str = "fast",
    combine_tier: str = "balanced",
) -> WorkflowResult:
    """Plan sections (one call, a numbered list), write each section in parallel with at most
    ``concurrency`` calls in flight, then combine them in a final call. A plan with no
    numbered line becomes one section: the task itself."""
    if max_sections < 1 or concurrency < 1:
        raise ValueError("max_sections and concurrency must be at least 1")
    run = _Run(router)
    plan = await run.ask("plan", _user(
        f"Task: {task}\n\nPlan the answer as a numbered list of at most {max_sections} "
        "section titles, one per line, and nothing else."), tier=plan_tier)
    titles = parse_plan(plan.text, max_sections) or [task]
    outline = "\n".join(f"{i}. {title}" for i, title in enumerate(titles, 1))
    gate = asyncio.Semaphore(concurrency)

    async def section(number: int, title: str) -> tuple[str, RouterResult]:
        async with gate:
            result = await router.chat(_user(
                f"Task: {task}\n\nOutline:\n{outline}\n\nWrite only section {number}, "
                f"\"{title}\"."), tier=section_tier)
        return f"section {number}", result

    # Steps are recorded in outline order, whatever order the sections finish in.
    run.steps.extend(await asyncio.gather(
        *(section(number, title) for number, title in enumerate(titles, 1))))
    drafts = "\n\n".join(f"## {title}\n{result.text}"
                         for title, (_, result) in zip(titles, run.steps[1:], strict=True))
    combined = await run.ask("combine", _user(
        f"Task: {task}\n\nCombine these sections into one coherent answer, keeping their "
        f"order and removing repetition:\n\n{drafts}"), tier=combine_tier)
    return run.finish(combined.text)


# --------------------------------------------------------------------------- 3. analyse → answer


async def analyze_then_generate(
    router: Router,
    material: str,
    request: str,
    *,
    analysis_tier: str = "advanced",
    generation_tier: str = "balanced",
) -> WorkflowResult:
    """A strong model analyses ``material`` for ``request``; a cheaper one writes the answer
    from that analysis (it sees the analysis and the request, not the raw material)."""
    run = _Run(router)
    analysis = await run.ask("analyze", _user(
        f"Request: {request}\n\nMaterial:\n{material}\n\nAnalyse the material for this "
        "request: the relevant facts, constraints and a short plan for the answer. Do not "
        "write the answer itself."), tier=analysis_tier)
    answer = await run.ask("generate", _user(
        f"Request: {request}\n\nAnalysis of the material:\n{analysis.text}\n\n"
        "Write the answer to the request, using only the analysis."), tier=generation_tier)
    return run.finish(answer.text)


# --------------------------------------------------------------------------- 4. refine


async def iterative_refine(
    router: Router,
    prompt: str,
    *,
    validator: Validator,
    max_rounds: int = MAX_REFINE_ROUNDS,
    tier: str = "balanced",
) -> WorkflowResult:
    """Generate, check with ``validator``, and on rejection ask for a fix that quotes the
    reason, in the same conversation; stop when an answer passes or after ``max_rounds``
    (1..3) answers. The validator runs here, not in the router, so a rejection asks the same
    tier for a fix instead of escalating."""
    if not 1 <= max_rounds <= MAX_REFINE_ROUNDS:
        raise ValueError(f"max_rounds must be 1..{MAX_REFINE_ROUNDS}, got {max_rounds}")
    run = _Run(router)
    messages = _user(prompt)
    for round_number in range(1, max_rounds + 1):
        name = "generate" if round_number == 1 else f"fix {round_number - 1}"
        result = await run.ask(name, messages, tier=tier)
        reason = validator.check(result.response)
        if reason is None:
            return run.finish(result.text, rounds=round_number, passed=True)
        messages = [*messages, {"role": "assistant", "content": result.text}, {
            "role": "user",
            "content": f"Your answer was rejected by the {validator.name} check: {reason}. "
                       "Fix it and give the whole corrected answer, nothing else."}]
    return run.finish(result.text, rounds=max_rounds, passed=False)
