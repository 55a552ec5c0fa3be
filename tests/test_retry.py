"""Retry-After parsing, full-jitter backoff and the retry/fallback/fail table."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from modelrouter import errors
from modelrouter.routing.retry import (
    RetryDecision,
    RetryPolicy,
    backoff_delay,
    decide,
    parse_retry_after,
)

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"retry-after": "5"}, 5.0),
        ({"Retry-After": "5"}, 5.0),
        ({"RETRY-AFTER": " 7 "}, 7.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "-1"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "soon"}, None),
        ({"retry-after": ""}, None),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"Retry-After-Ms": "250"}, 0.25),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after-ms": "garbage", "retry-after": "9"}, 9.0),
        ({"retry-after-ms": "-5", "retry-after": "9"}, 9.0),
        ({"retry-after-ms": "NaN", "retry-after": "9"}, 9.0),
        ({"retry-after-ms": "Infinity"}, None),
        ({"retry-after-ms": "0"}, 0.0),
        # RFC 7231 IMF-fixdate, 30 s ahead of NOW
        ({"retry-after": "Sun, 01 Jun 2025 12:00:30 GMT"}, 30.0),
        # obsolete RFC 850 form
        ({"retry-after": "Sunday, 01-Jun-25 12:01:00 GMT"}, 60.0),
        # obsolete asctime form
        ({"retry-after": "Sun Jun  1 12:00:10 2025"}, 10.0),
        # numeric zone offset: 14:00:05 +0200 == 12:00:05 UTC
        ({"retry-after": "Sun, 01 Jun 2025 14:00:05 +0200"}, 5.0),
        # a date in the past means "now"
        ({"retry-after": "Sun, 01 Jun 2025 11:59:00 GMT"}, 0.0),
        ({"retry-after": "Sun, 32 Jun 2025 11:59:00 GMT"}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers, now=NOW) == expected


def test_parse_retry_after_date_defaults_to_current_time() -> None:
    assert parse_retry_after({"retry-after": "Mon, 01 Jan 2001 00:00:00 GMT"}) == 0.0
    far = parse_retry_after({"retry-after": "Fri, 01 Jan 2100 00:00:00 GMT"})
    assert far is not None and far > 365 * 24 * 3600


@pytest.mark.parametrize(
    ("attempt", "rand_value", "base", "cap", "expected"),
    [
        (0, 1.0, 0.5, 8.0, 0.5),
        (1, 1.0, 0.5, 8.0, 1.0),
        (2, 1.0, 0.5, 8.0, 2.0),
        (4, 1.0, 0.5, 8.0, 8.0),
        (5, 1.0, 0.5, 8.0, 8.0),  # capped
        (1000, 1.0, 0.5, 8.0, 8.0),  # no overflow
        (3, 0.5, 0.5, 8.0, 2.0),
        (6, 0.5, 0.5, 8.0, 4.0),
        (3, 0.0, 0.5, 8.0, 0.0),  # full jitter reaches zero
        (2, 0.25, 1.0, 3.0, 0.75),
    ],
)
def test_backoff_delay(
    attempt: int, rand_value: float, base: float, cap: float, expected: float
) -> None:
    assert backoff_delay(attempt, base=base, cap=cap, rand=lambda: rand_value) == expected


def test_backoff_delay_rejects_negative_attempt() -> None:
    with pytest.raises(ValueError, match="attempt"):
        backoff_delay(-1)


def test_backoff_delay_default_rand_stays_within_ceiling() -> None:
    delays = [backoff_delay(2) for _ in range(200)]
    assert all(0.0 <= d <= 2.0 for d in delays)
    assert len(set(delays)) > 1


def _status(code: int, **kwargs: Any) -> errors.ProviderStatusError:
    return errors.status_error_class(code)(f"status {code}", status_code=code, **kwargs)


POLICY = RetryPolicy()  # max_retries=2, base 0.5, cap 8.0, rate-limit cooldown 30


# (error, attempt, remaining_s, expected action, delay_s, cooldown_s); rand() is always 0.5
DECISIONS: list[tuple[str, BaseException, int, float, str, float, float | None]] = [
    ("not ours", ValueError("bug"), 0, 60.0, "fail", 0.0, None),
    ("keyboard", KeyboardInterrupt(), 0, 60.0, "fail", 0.0, None),
    ("400", _status(400), 0, 60.0, "fail", 0.0, None),
    ("422", _status(422), 0, 60.0, "fail", 0.0, None),
    ("401", _status(401), 0, 60.0, "fallback", 0.0, None),
    ("403", _status(403), 0, 60.0, "fallback", 0.0, None),
    ("404", _status(404), 0, 60.0, "fallback", 0.0, None),
    ("429 retry-after fits", _status(429, retry_after=3.0), 0, 60.0, "retry", 3.0, None),
    ("429 retry-after == remaining", _status(429, retry_after=3.0), 1, 3.0, "retry", 3.0, None),
    ("429 retry-after too long", _status(429, retry_after=90.0), 0, 60.0, "fallback", 0.0, 90.0),
    ("429 retry-after, no attempts", _status(429, retry_after=1.0), 2, 60.0,
     "fallback", 0.0, 1.0),
    ("429 retry-after from headers", _status(429, headers={"Retry-After-Ms": "1200"}), 0, 60.0,
     "retry", 1.2, None),
    ("429 no retry-after", _status(429), 1, 60.0, "retry", 0.5, None),
    ("429 no retry-after, no attempts", _status(429), 2, 60.0, "fallback", 0.0, 30.0),
    ("429 no retry-after, no time", _status(429), 0, 0.1, "fallback", 0.0, 30.0),
    ("500", _status(500), 0, 60.0, "retry", 0.25, None),
    ("503 attempt 2 of 2", _status(503), 1, 60.0, "retry", 0.5, None),
    ("502 retries used", _status(502), 2, 60.0, "fallback", 0.0, None),
    ("500 delay does not fit", _status(500), 1, 0.4, "fallback", 0.0, None),
    ("408", _status(408), 0, 60.0, "retry", 0.25, None),
    ("409", _status(409), 0, 60.0, "retry", 0.25, None),
    ("418 unknown status", _status(418), 0, 60.0, "fallback", 0.0, None),
    ("connection", errors.ProviderConnectionError("reset"), 0, 60.0, "retry", 0.25, None),
    ("connection, retries used", errors.ProviderConnectionError("reset"), 2, 60.0,
     "fallback", 0.0, None),
    ("connect timeout", errors.ProviderTimeoutError("t", kind="connect"), 0, 60.0,
     "retry", 0.25, None),
    ("first-token timeout", errors.ProviderTimeoutError("t", kind="first_token"), 1, 60.0,
     "retry", 0.5, None),
    ("first-token timeout, no time", errors.ProviderTimeoutError("t", kind="first_token"), 0,
     0.0, "fallback", 0.0, None),
    ("total timeout", errors.ProviderTimeoutError("t", kind="total"), 0, 60.0,
     "fallback", 0.0, None),
    ("bare provider error", errors.ProviderError("odd"), 0, 60.0, "fallback", 0.0, None),
    ("local rate limit", errors.RateLimitedError("busy", retry_after=4.0), 0, 60.0,
     "fallback", 0.0, 4.0),
    ("unsupported capability", errors.UnsupportedCapabilityError("m", ["vision"]), 0, 60.0,
     "fallback", 0.0, None),
    ("validation failed", errors.ValidationFailedError("json", "not JSON"), 0, 60.0,
     "fallback", 0.0, None),
    ("circuit open", errors.CircuitOpenError("m", NOW), 0, 60.0, "fallback", 0.0, None),
    ("config error", errors.ConfigError("bad"), 0, 60.0, "fail", 0.0, None),
    ("unknown model", errors.UnknownModelError("x"), 0, 60.0, "fail", 0.0, None),
    ("budget", errors.BudgetExceededError("team", Decimal(1), Decimal(1)), 0, 60.0,
     "fail", 0.0, None),
    ("pricing", errors.PricingError("no price"), 0, 60.0, "fail", 0.0, None),
]


@pytest.mark.parametrize(
    ("name", "error", "attempt", "remaining", "action", "delay", "cooldown"),
    DECISIONS,
    ids=[row[0] for row in DECISIONS],
)
def test_decide_table(
    name: str, error: BaseException, attempt: int, remaining: float,
    action: str, delay: float, cooldown: float | None,
) -> None:
    decision = decide(error, attempt=attempt, policy=POLICY, remaining_s=remaining,
                      rand=lambda: 0.5)
    assert (decision.action, decision.delay_s, decision.cooldown_s) == (action, delay, cooldown)
    assert decision.reason


def test_decide_honours_policy_fields() -> None:
    policy = RetryPolicy(max_retries=0, rate_limit_cooldown_s=7.0)
    assert decide(_status(500), attempt=0, policy=policy, remaining_s=60.0) == RetryDecision(
        "fallback", 0.0, None, "500: 0 retries used"
    )
    assert decide(_status(429), attempt=0, policy=policy, remaining_s=60.0).cooldown_s == 7.0
    wide = RetryPolicy(max_retries=5, base_delay_s=1.0, max_delay_s=3.0)
    decision = decide(_status(500), attempt=4, policy=wide, remaining_s=60.0, rand=lambda: 1.0)
    assert (decision.action, decision.delay_s) == ("retry", 3.0)


def test_decision_is_frozen() -> None:
    decision = decide(_status(500), attempt=0, policy=POLICY, remaining_s=60.0)
    with pytest.raises(AttributeError):
        decision.action = "fail"  # type: ignore[misc]
