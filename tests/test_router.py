"""The router through real loopback HTTP: every scripted fault, as the caller sees it and as
it is recorded."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from modelrouter.errors import (
    AllProvidersFailedError,
    ProviderConnectionError,
    ValidationFailedError,
)
from modelrouter.routing.router import RouterResult
from modelrouter.routing.validators import valid_json
from modelrouter.testing import FakeProvider, Fault
from tests.router_fixtures import CONFIG as CONFIG_TEXT
from tests.router_fixtures import Rig, make_router

HELLO = [{"role": "user", "content": "Say hello to the tests"}]
FREE = "meta-llama/llama-3.3-70b-instruct:free"
# The cheapest paid model of the test tier for a short prompt: the first fallback.
NEXT = "cohere:command-r7b-12-2024"


def chat(rig: Rig, **kwargs: Any) -> RouterResult:
    async def go() -> RouterResult:
        try:
            return await rig.router.chat(kwargs.pop("messages", HELLO), **kwargs)
        finally:
            await rig.router.aclose()

    return asyncio.run(go())


def outcomes(rig: Rig) -> list[tuple[str, str]]:
    return [(r.model, r.outcome) for r in rig.sink.records]


def test_free_model_first_and_usage_recorded(fake: FakeProvider, tmp_path: Path) -> None:
    rig = make_router(fake, tmp_path)
    result = chat(rig, tier="fast")
    assert result.model == f"openrouter:{FREE}"
    assert result.text.startswith(f"[{FREE}]")
    assert result.fallback_depth == 0
    assert result.cost is not None and result.cost.total == Decimal(0)
    [record] = rig.sink.records
    assert record.outcome == "success" and record.free
    assert record.usage is not None and record.usage.input_tokens > 0
    sent = fake.requests[0]
    assert sent.headers["authorization"] == "Bearer or-test"
    assert sent.body["max_tokens"] == 256 and sent.body["temperature"] == 0.3


def test_provider_without_key_is_skipped_with_reason(fake: FakeProvider, tmp_path: Path) -> None:
    rig = make_router(fake, tmp_path, keys={"OPENAI_API_KEY": "sk-test"})
    result = chat(rig, tier="fast")
    assert result.model == "openai:gpt-5-nano"
    reasons = {r.model_id: r.reason for r in result.decision.rejected}  # type: ignore[union-attr]
    assert reasons[f"openrouter:{FREE}"] == "no API key: set OPENROUTER_API_KEY"
    assert "no API key: set GEMINI_API_KEY" in "\n".join(result.decision.explain())  # type: ignore[union-attr]


def test_429_with_short_retry_after_retries_same_model(fake: FakeProvider, tmp_path: Path) -> None:
    rig = make_router(fake, tmp_path)
    fake.script(FREE, [Fault.rate_limit(retry_after=0.25), Fault.ok()])
    result = chat(rig, tier="fast")
    assert result.model == f"openrouter:{FREE}"
    assert rig.clock.sleeps == [0.25]  # exactly the Retry-After, no jitter
    assert outcomes(rig) == [(f"openrouter:{FREE}", "error"), (f"openrouter:{FREE}", "success")]
    assert rig.sink.records[0].error_class == "RateLimitError"


def test_429_longer_than_timeout_falls_back_and_cools_down(
    fake: FakeProvider, tmp_path: Path
) -> None:
    rig = make_router(fake, tmp_path)
    fake.script(FREE, [Fault.rate_limit(retry_after_ms=90_000)])
    result = chat(rig, tier="fast")
    assert result.model == NEXT
    assert result.fallback_depth == 1
    assert rig.clock.sleeps == []  # no sleeping through a long Retry-After
    assert rig.router.live.cooldown_until[f"openrouter:{FREE}"] == pytest.approx(1090.0)
    # The next request skips the cooling model without calling it.
    calls_before = fake.calls(FREE)
    second = asyncio.run(rig.router.chat(HELLO, tier="fast"))
    assert second.model == NEXT and fake.calls(FREE) == calls_before
    assert any(r.code == "cooldown" for r in second.decision.rejected)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("fault", "error_class"),
    [
        (Fault.server_error(500), "InternalServerError"),
        (Fault.server_error(503), "InternalServerError"),
        (Fault.connection_reset(), "ProviderConnectionError"),
        (Fault.malformed_json(), "ProviderError"),
        (Fault.wrong_content_type(), "ProviderError"),
    ],
)
def test_fault_falls_back_after_retries_when_retryable(
    fake: FakeProvider, tmp_path: Path, fault: Fault, error_class: str
) -> None:
    rig = make_router(fake, tmp_path)
    fake.always(FREE, fault)
    result = chat(rig, tier="fast")
    assert result.model == NEXT
    errors = [r for r in rig.sink.records if r.outcome == "error"]
    assert {r.error_class for r in errors} == {error_class}
    retryable = error_class != "ProviderError"
    assert len(errors) == (2 if retryable else 1)  # max_retries = 1
    assert rig.sink.records[-1].outcome == "success"
    assert rig.sink.records[-1].fallback_depth == 1


def test_hang_past_timeout_is_a_timeout_then_fallback(fake: FakeProvider, tmp_path: Path) -> None:
    config = Path(__file__).with_name("router_fixtures.py")  # keep the default rig config
    del config
    rig = make_router(fake, tmp_path, real_clock=True)
    fake.always(FREE, Fault.hang(10))
    result = chat(rig, tier="fast")
    assert result.model == NEXT
    first = rig.sink.records[0]
    assert first.error_class == "ProviderTimeoutError"
    assert first.latency_s < 3.5


def test_breaker_opens_then_half_open_probe_closes_it(fake: FakeProvider, tmp_path: Path) -> None:
    rig = make_router(fake, tmp_path)
    fake.always(FREE, Fault.server_error(500))

    async def scenario() -> list[str]:
        chosen = []
        for _ in range(2):  # 2 requests × 2 attempts ≥ threshold 3
            chosen.append((await rig.router.chat(HELLO, tier="fast")).model)
        breaker = rig.router.live.breakers.get(f"openrouter:{FREE}")
        assert breaker.state == "open"
        third = await rig.router.chat(HELLO, tier="fast")
        assert any(r.code == "breaker_open" for r in third.decision.rejected)  # type: ignore[union-attr]
        calls = fake.calls(FREE)
        rig.clock.now += 31  # past the cooldown: half-open, one probe
        fake.always(FREE, None)
        probe = await rig.router.chat(HELLO, tier="fast")
        assert fake.calls(FREE) == calls + 1
        assert breaker.state == "closed"
        chosen.append(probe.model)
        await rig.router.aclose()
        return chosen

    chosen = asyncio.run(scenario())
    assert chosen == [NEXT, NEXT, f"openrouter:{FREE}"]


def test_validator_failure_escalates_a_tier(fake: FakeProvider, tmp_path: Path) -> None:
    rig = make_router(fake, tmp_path)
    fake.configure(FREE, reply="definitely not json")
    fake.configure("gpt-5-nano", reply="{nope")
    fake.configure("gemini-2.5-flash-lite", reply="still not")
    fake.configure("command-r7b-12-2024", reply="nor this")
    fake.configure("gpt-5-mini", reply='{"answer": 42}')  # the cheapest of the next tier
    result = chat(rig, tier="fast", validators=[valid_json()])
    assert result.model == "openai:gpt-5-mini"
    assert result.tier == "balanced"
    assert json.loads(result.text) == {"answer": 42}
    assert outcomes(rig) == [(f"openrouter:{FREE}", "validation_failed"),
                             ("openai:gpt-5-mini", "success")]
    assert rig.sink.records[0].cost_usd == Decimal(0)  # recorded, even though rejected


def test_escalation_stops_after_max_fallback_attempts(fake: FakeProvider, tmp_path: Path) -> None:
    rig = make_router(fake, tmp_path)
    with pytest.raises(ValidationFailedError, match="not valid JSON"):
        chat(rig, tier="fast", validators=[valid_json()])
    # fast → balanced → advanced: two escalations (max_fallback_attempts = 2), then it stops.
    assert [r.tier for r in rig.sink.records] == ["fast", "balanced", "advanced"]


def test_cost_cap_skips_expensive_models(fake: FakeProvider, tmp_path: Path) -> None:
    rig = make_router(fake, tmp_path)
    result = chat(rig, tier="advanced", max_cost_usd=Decimal("0.025"))
    assert result.model == "openai:gpt-5"  # 2048 × $10/M = $0.02048 fits; Sonnet's $0.03 doesn't
    rejected = {r.model_id: r.code for r in result.decision.rejected}  # type: ignore[union-attr]
    assert rejected["anthropic:claude-sonnet-4-5"] == "cost_cap"


def test_every_wire_format_through_the_router(fake: FakeProvider, tmp_path: Path) -> None:
    rig = make_router(fake, tmp_path)
    models = ("openai:gpt-5-nano", "google:gemini-2.5-flash-lite",
              "cohere:command-r7b-12-2024", "anthropic:claude-haiku-4-5")

    async def each() -> list[RouterResult]:
        try:
            return [await rig.router.chat(HELLO, model=model) for model in models]
        finally:
            await rig.router.aclose()

    for model, result in zip(models, asyncio.run(each()), strict=True):
        assert result.model == model
        assert "Say hello" in result.text
        assert result.usage.output_tokens > 0
    assert {r.wire for r in fake.requests} == {"openai", "gemini", "cohere", "anthropic"}


def test_all_failed_lists_every_attempt(fake: FakeProvider, tmp_path: Path) -> None:
    rig = make_router(fake, tmp_path)
    fake.always("*", Fault.status(404))
    with pytest.raises(AllProvidersFailedError) as info:
        chat(rig, tier="fast")
    assert [m for m, _ in info.value.attempts] == [
        f"openrouter:{FREE}", NEXT, "openai:gpt-5-nano", "google:gemini-2.5-flash-lite"]


# ------------------------------------------------------------------------ streaming


def stream(rig: Rig, **kwargs: Any) -> tuple[list[str], Any]:
    async def go() -> tuple[list[str], Any]:
        pieces: list[str] = []
        handle = rig.router.stream(HELLO, **kwargs)
        try:
            async for chunk in handle:
                pieces.append(chunk.text)
        finally:
            await rig.router.aclose()
        return pieces, handle

    return asyncio.run(go())


def test_stream_success_records_usage(fake: FakeProvider, tmp_path: Path) -> None:
    rig = make_router(fake, tmp_path)
    pieces, handle = stream(rig, tier="fast")
    assert handle.model == f"openrouter:{FREE}" and handle.completed
    assert "".join(pieces) == handle.text and handle.text.startswith(f"[{FREE}]")
    [record] = rig.sink.records
    assert record.outcome == "success" and record.streamed and record.ttft_s is not None
    assert record.usage is not None and record.usage.output_tokens > 0


def test_stream_falls_back_before_first_token(fake: FakeProvider, tmp_path: Path) -> None:
    rig = make_router(fake, tmp_path, real_clock=True)
    fake.always(FREE, Fault.slow_first_token(3))
    _, handle = stream(rig, tier="fast")
    assert handle.model == NEXT
    assert rig.sink.records[0].error_class == "ProviderTimeoutError"
    assert rig.sink.records[-1].outcome == "success"


def test_stream_cut_after_first_token_is_an_error_never_success(
    fake: FakeProvider, tmp_path: Path
) -> None:
    rig = make_router(fake, tmp_path)
    fake.always(FREE, Fault.cut_stream(after_chunks=2))
    with pytest.raises(ProviderConnectionError):
        stream(rig, tier="fast")
    assert [r.outcome for r in rig.sink.records] == ["stream_cut"]
    assert fake.calls("command-r7b-12-2024") == 0  # no fallback once tokens reached the caller


def test_pinned_model_falls_back_along_configured_chain(
    fake: FakeProvider, tmp_path: Path
) -> None:
    config = (
        "[tiers.fast]\nmodels = [\"openai:gpt-5-nano\"]\n"
        "[fallbacks]\n"
        "\"openai:gpt-5\" = [\"anthropic:claude-sonnet-4-5\", \"google:gemini-2.5-pro\"]\n"
        "[retry]\nmax_retries = 0\n"
    )
    rig = make_router(fake, tmp_path, config=config)
    fake.always("gpt-5", Fault.server_error(500))
    fake.always("claude-sonnet-4-5", Fault.server_error(503))
    result = chat(rig, model="gpt-5")
    assert result.model == "google:gemini-2.5-pro"
    assert result.fallback_depth == 2
    assert outcomes(rig) == [("openai:gpt-5", "error"), ("anthropic:claude-sonnet-4-5", "error"),
                             ("google:gemini-2.5-pro", "success")]


def test_slow_answer_past_the_total_timeout_falls_back(
    fake: FakeProvider, tmp_path: Path
) -> None:
    rig = make_router(fake, tmp_path, real_clock=True)
    fake.always(FREE, Fault.slow_first_token(5))
    result = chat(rig, tier="fast")
    assert result.model == NEXT
    first = rig.sink.records[0]
    assert first.error_class == "ProviderTimeoutError" and "total" in (first.error_message or "")
    assert 1.5 < first.latency_s < 3.5  # the fast tier's 2 s budget, not the 5 s delay


def test_configured_validators_escalate_and_are_built_once(
    fake: FakeProvider, tmp_path: Path
) -> None:
    config = CONFIG_TEXT + '\n[[validators]]\nname = "json"\nkind = "json"\ntiers = ["fast"]\n'
    rig = make_router(fake, tmp_path, config=config)
    for model in (FREE, "gpt-5-nano", "gemini-2.5-flash-lite", "command-r7b-12-2024"):
        fake.configure(model, reply="not json")
    fake.configure("gpt-5-mini", reply='{"ok": true}')
    result = chat(rig, tier="fast")
    assert result.tier == "balanced" and result.model == "openai:gpt-5-mini"
    assert rig.router._tier_validators("fast") is rig.router._tier_validators("fast")
    assert rig.router._tier_validators("balanced") == ()
