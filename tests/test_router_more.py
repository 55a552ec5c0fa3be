"""Router edges: sync facade, local rate limits, breaker inputs, env overrides, defaults."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import modelrouter
from modelrouter.config import load_config
from modelrouter.routing.complexity.thresholds import calibrated_threshold
from modelrouter.testing import FakeProvider, Fault
from tests.router_fixtures import CONFIG, KEYS, base_urls, make_router

HELLO = [{"role": "user", "content": "hello"}]
FREE = "meta-llama/llama-3.3-70b-instruct:free"


def test_sync_facade_matches_async(fake: FakeProvider, tmp_path: Path) -> None:
    path = tmp_path / "modelrouter.toml"
    path.write_text(CONFIG, encoding="utf-8")
    with modelrouter.SyncRouter(load_config(path, environ=KEYS), environ=KEYS,
                                base_urls=base_urls(fake)) as router:
        result = router.chat(HELLO, tier="fast")
        assert result.model == f"openrouter:{FREE}"
        assert router.resolve(tier="budget").tier == "fast"  # sync methods pass through
    assert modelrouter.SyncRouter.chat.__doc__ == modelrouter.Router.chat.__doc__


def test_local_rpm_limit_moves_to_the_next_model(fake: FakeProvider, tmp_path: Path) -> None:
    config = CONFIG + f'\n[limits.models."openrouter:{FREE}"]\nrpm = 2\n'
    rig = make_router(fake, tmp_path, config=config)

    async def three() -> list[str]:
        try:
            return [(await rig.router.chat(HELLO, tier="fast")).model for _ in range(3)]
        finally:
            await rig.router.aclose()

    models = asyncio.run(three())
    assert models[:2] == [f"openrouter:{FREE}"] * 2
    assert models[2] != f"openrouter:{FREE}"
    assert fake.calls(FREE) == 2  # the third request never reached the throttled model


def test_rate_limit_errors_do_not_trip_the_breaker(fake: FakeProvider, tmp_path: Path) -> None:
    rig = make_router(fake, tmp_path)
    fake.always(FREE, Fault.rate_limit(retry_after=0.01))

    async def go() -> None:
        try:
            for _ in range(3):
                await rig.router.chat(HELLO, tier="fast")
                rig.router.live.end_cooldown(f"openrouter:{FREE}")
        finally:
            await rig.router.aclose()

    asyncio.run(go())
    assert rig.router.live.breakers.get(f"openrouter:{FREE}").state == "closed"


def test_env_overrides_reach_the_router(fake: FakeProvider, tmp_path: Path) -> None:
    keys = {**KEYS, "MODEL_BUDGET": "openai:gpt-4o-mini"}
    path = tmp_path / "modelrouter.toml"
    path.write_text(CONFIG, encoding="utf-8")
    config = load_config(path, environ=keys)
    assert config.tier("fast").models[0] == "openai:gpt-4o-mini"
    assert config.sources["tiers.fast.models"] == "env:MODEL_BUDGET"


def test_no_config_defaults_route_offline() -> None:
    """With no file and no keys, the defaults plan a route; the call fails with the reason."""
    router = modelrouter.Router(environ={})
    target = router.resolve(task="summarization")
    assert target.tier == "fast" and target.require.fast
    decision = router.plan(target)
    assert decision.chosen is None
    codes = {r.model_id: r.code for r in decision.rejected}
    assert codes["groq:llama-3.1-8b-instant"] == "provider_unavailable"
    assert set(codes.values()) <= {"provider_unavailable", "not_fast"}
    with pytest.raises(modelrouter.AllProvidersFailedError, match="no API key: set"):
        asyncio.run(router.chat(HELLO, task="summarization"))


@pytest.mark.parametrize(
    ("name", "expected"),
    [("budget", "fast"), ("fallback", "balanced"), ("premium", "advanced"),
     ("simple", "fast"), ("medium", "balanced"), ("complex", "advanced")],
)
def test_seed_tier_aliases(name: str, expected: str) -> None:
    router = modelrouter.Router(environ={})
    assert router.resolve(tier=name).tier == expected
    assert router.resolve(model=f"tier:{name}").tier == expected


def test_seed_api_select_model_and_task() -> None:
    assert modelrouter.select_model("budget", environ={}).startswith("openrouter:")
    fast = modelrouter.select_model("budget", require_fast=True, environ={})
    assert modelrouter.get_catalog().get(fast).speed_class == "fast"
    premium = modelrouter.get_model_for_task("classification", environ={})
    assert modelrouter.get_catalog().get(premium).quality_class in ("high", "frontier")
    only_openai = modelrouter.select_model("budget", only_available=True,
                                           environ={"OPENAI_API_KEY": "x"})
    assert only_openai.startswith("openai:")


def test_unknown_tier_in_the_model_field_is_an_unknown_model() -> None:
    router = modelrouter.Router(environ={})
    with pytest.raises(modelrouter.UnknownModelError, match="did you mean 'tier:fast'") as info:
        router.resolve(model="tier:fats")
    assert info.value.http_status == 404


def test_auto_scores_the_prompt_and_picks_a_tier() -> None:
    router = modelrouter.Router(environ={})
    word_problem = [{"role": "user", "content": (
        "Natalia sold clips to 48 of her friends in April, and then she sold half as many "
        "clips in May. How many clips did Natalia sell altogether in April and May?")}]
    greeting = [{"role": "user", "content": "hi"}]
    a = router.resolve(model="auto", messages=word_problem)
    b = router.resolve(tier="auto", messages=greeting)
    assert a.auto is not None and b.auto is not None
    for target in (a, b):  # auto = the calibrated threshold for 95 % quality
        assert target.auto is not None
        assert target.auto.threshold == calibrated_threshold(target.auto.family, 0.95)
        expected = "advanced" if target.auto.score >= target.auto.threshold else "balanced"
        assert target.tier == expected
    assert a.auto.score != b.auto.score
    # auto:<t> between the two scores splits them: the higher one goes to the strong tier
    (low, low_score), (high, high_score) = sorted(
        [(word_problem, a.auto.score), (greeting, b.auto.score)], key=lambda x: x[1])
    t = (low_score + high_score) / 2
    assert router.resolve(model=f"auto:{t}", messages=high).tier == "advanced"
    assert router.resolve(model=f"auto:{t}", messages=low).tier == "balanced"
    forced = router.resolve(model="auto:0.0", messages=greeting)  # threshold 0: always strong
    assert forced.tier == "advanced"
    with pytest.raises(modelrouter.ConfigError, match="auto"):
        router.resolve(model="auto:lots", messages=greeting)


def test_a_resolved_target_is_not_resolved_again(
    fake: FakeProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = make_router(fake, tmp_path)
    target = rig.router.resolve(model="auto", messages=HELLO)

    def no_second_resolve(**_: object) -> None:
        raise AssertionError("resolve called again")

    monkeypatch.setattr(rig.router, "resolve", no_second_resolve)
    result = asyncio.run(rig.router.chat(HELLO, model="auto", target=target))
    assert result.tier == target.tier
