"""Token buckets and per-model RPM/TPM limits with explicit time."""

from __future__ import annotations

import math
from typing import Any

import pytest

from modelrouter.routing.ratelimit import ModelRateLimit, RateHeadroom, TokenBucket

# Bucket: capacity 10, refill 2/s. Steps: ("take", now, amount, expected_ok) or
# ("avail", now, expected) or ("wait", now, amount, expected_seconds).
Step = tuple[Any, ...]

BUCKET_SCRIPTS: list[tuple[str, list[Step]]] = [
    ("starts full", [("avail", 0.0, 10.0), ("wait", 0.0, 10.0, 0.0)]),
    ("take all then nothing", [("take", 0.0, 10.0, True), ("take", 0.0, 0.5, False),
                               ("avail", 0.0, 0.0)]),
    ("refused take debits nothing", [("take", 0.0, 8.0, True), ("take", 0.0, 3.0, False),
                                     ("avail", 0.0, 2.0), ("take", 0.0, 2.0, True)]),
    ("refills over time", [("take", 0.0, 10.0, True), ("avail", 1.0, 2.0),
                           ("avail", 2.5, 5.0), ("take", 2.5, 5.0, True), ("avail", 2.5, 0.0)]),
    ("refill stops at capacity", [("take", 0.0, 4.0, True), ("avail", 100.0, 10.0),
                                  ("take", 100.0, 10.0, True), ("take", 100.0, 1.0, False)]),
    ("wait time for a deficit", [("take", 0.0, 10.0, True), ("wait", 0.0, 4.0, 2.0),
                                 ("wait", 1.0, 4.0, 1.0), ("wait", 2.0, 4.0, 0.0)]),
    ("more than capacity never fits", [("wait", 0.0, 10.5, math.inf),
                                       ("take", 0.0, 10.5, False), ("avail", 0.0, 10.0)]),
    ("zero amount always fits", [("take", 0.0, 10.0, True), ("take", 0.0, 0.0, True),
                                 ("wait", 0.0, 0.0, 0.0)]),
    ("time going backwards refills nothing", [("take", 5.0, 10.0, True), ("avail", 4.0, 0.0),
                                              ("avail", 6.0, 2.0)]),
]


@pytest.mark.parametrize(("name", "steps"), BUCKET_SCRIPTS, ids=[s[0] for s in BUCKET_SCRIPTS])
def test_token_bucket(name: str, steps: list[Step]) -> None:
    bucket = TokenBucket(capacity=10, refill_per_s=2)
    for step in steps:
        kind, now = step[0], step[1]
        if kind == "take":
            assert bucket.try_take(step[2], now) is step[3], step
        elif kind == "avail":
            assert bucket.available(now) == step[2], step
        else:
            assert bucket.wait_time(step[2], now) == step[3], step


def test_bucket_without_refill_waits_forever() -> None:
    bucket = TokenBucket(capacity=3, refill_per_s=0)
    assert bucket.try_take(3, 0.0) is True
    assert bucket.wait_time(1, 1000.0) == math.inf


def test_give_back_is_capped() -> None:
    bucket = TokenBucket(capacity=10, refill_per_s=1)
    bucket.try_take(6, 0.0)
    bucket.give_back(2, 0.0)
    assert bucket.available(0.0) == 6.0
    bucket.give_back(100, 0.0)
    assert bucket.available(0.0) == 10.0


@pytest.mark.parametrize(
    ("capacity", "refill"),
    [(0, 1), (-1, 1), (math.inf, 1), (math.nan, 1), (1, -1), (1, math.inf), (1, math.nan)],
)
def test_bucket_rejects_bad_settings(capacity: float, refill: float) -> None:
    with pytest.raises(ValueError):
        TokenBucket(capacity, refill)


@pytest.mark.parametrize("amount", [-1.0, math.nan])
def test_bucket_rejects_bad_amounts(amount: float) -> None:
    bucket = TokenBucket(capacity=10, refill_per_s=1)
    with pytest.raises(ValueError, match="amount"):
        bucket.wait_time(amount, 0.0)
    with pytest.raises(ValueError, match="amount"):
        bucket.try_take(amount, 0.0)


# ModelRateLimit(rpm=2, tpm=600): 2 requests refilled at 1/30 s, 600 tokens refilled at 10/s.
# Steps: ("acquire", now, tokens, expected_wait) or ("cool", until) or ("head", now, headroom).
LIMIT_SCRIPTS: list[tuple[str, list[tuple[object, ...]]]] = [
    ("admits within both limits", [
        ("acquire", 0.0, 100, 0.0), ("head", 0.0, RateHeadroom(1.0, 500.0)),
    ]),
    ("request limit binds", [
        ("acquire", 0.0, 1, 0.0), ("acquire", 0.0, 1, 0.0), ("acquire", 0.0, 1, 30.0),
        ("acquire", 15.0, 1, 15.0), ("acquire", 30.0, 1, 0.0),
    ]),
    ("token limit binds; the request bucket is not debited", [
        ("acquire", 0.0, 500, 0.0), ("acquire", 0.0, 300, 20.0),
        ("head", 0.0, RateHeadroom(1.0, 100.0)),
        ("acquire", 20.0, 300, 0.0), ("head", 20.0, RateHeadroom(0.0 + 20 / 30, 0.0)),
    ]),
    ("request limit binds; the token bucket is not debited", [
        ("acquire", 0.0, 10, 0.0), ("acquire", 0.0, 10, 0.0), ("acquire", 0.0, 10, 30.0),
        ("head", 0.0, RateHeadroom(0.0, 580.0)),
    ]),
    ("longer wait wins: requests", [
        ("acquire", 0.0, 100, 0.0), ("acquire", 0.0, 100, 0.0), ("acquire", 0.0, 500, 30.0),
    ]),
    ("longer wait wins: tokens", [
        ("acquire", 0.0, 600, 0.0), ("acquire", 1.0, 10, 0.0), ("acquire", 1.0, 500, 50.0),
    ]),
    ("over tpm capacity never fits", [
        ("acquire", 0.0, 601, math.inf), ("head", 0.0, RateHeadroom(2.0, 600.0)),
    ]),
    ("cooldown refuses, then expires", [
        ("cool", 10.0), ("acquire", 4.0, 1, 6.0), ("head", 4.0, RateHeadroom(2.0, 600.0, 10.0)),
        ("acquire", 10.0, 1, 0.0), ("head", 10.0, RateHeadroom(1.0, 599.0, None)),
    ]),
    ("cooldown is never shortened", [
        ("cool", 10.0), ("cool", 5.0), ("acquire", 0.0, 1, 10.0), ("cool", 12.0),
        ("acquire", 0.0, 1, 12.0),
    ]),
    ("cooldown refusal debits nothing", [
        ("cool", 1.0), ("acquire", 0.0, 600, 1.0), ("acquire", 1.0, 600, 0.0),
    ]),
]


@pytest.mark.parametrize(("name", "steps"), LIMIT_SCRIPTS, ids=[s[0] for s in LIMIT_SCRIPTS])
def test_model_rate_limit(name: str, steps: list[tuple[object, ...]]) -> None:
    limit = ModelRateLimit(rpm=2, tpm=600)
    for step in steps:
        if step[0] == "acquire":
            assert limit.try_acquire(step[2], step[1]) == step[3], step  # type: ignore[arg-type]
        elif step[0] == "cool":
            limit.cool_down(step[1])  # type: ignore[arg-type]
        else:
            got, want = limit.headroom(step[1]), step[2]  # type: ignore[arg-type]
            assert isinstance(want, RateHeadroom)
            assert got.requests_available == pytest.approx(want.requests_available, abs=1e-12)
            assert got.tokens_available == pytest.approx(want.tokens_available, abs=1e-12)
            assert got.cooldown_until == want.cooldown_until


def test_unlimited_dimensions() -> None:
    limit = ModelRateLimit(rpm=None, tpm=None)
    for _ in range(1000):
        assert limit.try_acquire(10**9, 0.0) == 0.0
    assert limit.headroom(0.0) == RateHeadroom(None, None)
    only_rpm = ModelRateLimit(rpm=1)
    assert only_rpm.try_acquire(10**9, 0.0) == 0.0
    assert only_rpm.try_acquire(0, 0.0) == 60.0
    assert only_rpm.headroom(0.0) == RateHeadroom(0.0, None)
    limit.cool_down(3.0)
    assert limit.try_acquire(1, 1.0) == 2.0


def test_release_tokens_returns_overestimate() -> None:
    limit = ModelRateLimit(rpm=10, tpm=1000)
    assert limit.try_acquire(800, 0.0) == 0.0
    limit.release_tokens(500, 0.0)  # the call used 300 of the 800 reserved
    assert limit.headroom(0.0).tokens_available == 700.0
    ModelRateLimit(rpm=10).release_tokens(5, 0.0)  # no token limit: nothing to return
