"""Retry-After parsing, backoff with jitter and the retry/fallback/fail decision as pure functions.

The router performs the I/O (sleeping, calling the next model, tripping the breaker); this module
only decides. Time is passed in, randomness is injectable, so every rule has a table of test cases.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

from modelrouter.errors import (
    CircuitOpenError,
    ProviderConnectionError,
    ProviderError,
    ProviderStatusError,
    ProviderTimeoutError,
    RateLimitedError,
    RouterError,
    UnsupportedCapabilityError,
    ValidationFailedError,
)

__all__ = [
    "DEFAULT_RATE_LIMIT_COOLDOWN_S",
    "Action",
    "RetryDecision",
    "RetryPolicy",
    "backoff_delay",
    "decide",
    "parse_retry_after",
]

Action = Literal["retry", "fallback", "fail"]

DEFAULT_RATE_LIMIT_COOLDOWN_S = 30.0

# Statuses where the request itself is wrong: no other model will accept it either.
_BAD_REQUEST_STATUSES = frozenset({400, 422})
# Statuses where this provider/model is unusable for us but another may work.
_UNUSABLE_STATUSES = frozenset({401, 403, 404})
# Transient statuses besides 5xx: request timeout and conflict.
_TRANSIENT_STATUSES = frozenset({408, 409})


def _finite_non_negative(value: float) -> float | None:
    if math.isnan(value) or math.isinf(value) or value < 0:
        return None
    return value


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait per ``retry-after-ms`` (wins) or ``retry-after`` (seconds or HTTP date).

    Header names are case-insensitive. Negative, NaN, infinite or unparseable values give None;
    an HTTP date in the past gives 0.0. ``now`` (UTC-aware) defaults to the current time and is
    only consulted for HTTP dates.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    raw_ms = lowered.get("retry-after-ms")
    if raw_ms is not None:
        try:
            ms = _finite_non_negative(float(raw_ms.strip()))
        except ValueError:
            ms = None
        if ms is not None:
            return ms / 1000.0
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return _finite_non_negative(float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with unknown origin zone
        when = when.replace(tzinfo=UTC)
    reference = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())


def backoff_delay(
    attempt: int,
    *,
    base: float = 0.5,
    cap: float = 8.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Exponential backoff with full jitter: ``rand() * min(cap, base * 2**attempt)``.

    Full jitter spreads synchronized clients out best (AWS architecture blog); ``attempt`` is
    0-based.
    """
    if attempt < 0:
        raise ValueError(f"attempt must be >= 0, got {attempt}")
    # min() before the power would overflow on huge attempts; 2**60 is plenty to reach any cap.
    ceiling = min(cap, base * 2.0 ** min(attempt, 60))
    return rand() * ceiling


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry the same model before falling back."""

    max_retries: int = 2
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    rate_limit_cooldown_s: float = DEFAULT_RATE_LIMIT_COOLDOWN_S


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """What the router should do after a failed call; ``cooldown_s`` benches the model."""

    action: Action
    delay_s: float = 0.0
    cooldown_s: float | None = None
    reason: str = ""


def _fail(reason: str) -> RetryDecision:
    return RetryDecision("fail", reason=reason)


def _fallback(reason: str, cooldown_s: float | None = None) -> RetryDecision:
    return RetryDecision("fallback", cooldown_s=cooldown_s, reason=reason)


def _retry_transient(
    what: str, *, attempt: int, policy: RetryPolicy, remaining_s: float,
    rand: Callable[[], float],
) -> RetryDecision:
    if attempt >= policy.max_retries:
        return _fallback(f"{what}: {policy.max_retries} retries used")
    delay = backoff_delay(
        attempt, base=policy.base_delay_s, cap=policy.max_delay_s, rand=rand
    )
    if delay > remaining_s:
        return _fallback(f"{what}: backoff {delay:.3f}s exceeds remaining {remaining_s:.3f}s")
    return RetryDecision("retry", delay_s=delay, reason=f"{what}: retry {attempt + 1}")


def _decide_rate_limit(
    error: ProviderStatusError, *, attempt: int, policy: RetryPolicy, remaining_s: float,
    rand: Callable[[], float],
) -> RetryDecision:
    retry_after = error.retry_after
    if retry_after is None:
        retry_after = parse_retry_after(error.headers)
    if retry_after is None:
        decision = _retry_transient(
            "429 without Retry-After", attempt=attempt, policy=policy,
            remaining_s=remaining_s, rand=rand,
        )
        if decision.action == "fallback":
            return _fallback(decision.reason, cooldown_s=policy.rate_limit_cooldown_s)
        return decision
    if attempt < policy.max_retries and retry_after <= remaining_s:
        return RetryDecision("retry", delay_s=retry_after,
                             reason=f"429: Retry-After {retry_after:g}s honoured")
    return _fallback(f"429: Retry-After {retry_after:g}s, cooling the model down",
                     cooldown_s=retry_after)


def decide(
    error: BaseException,
    *,
    attempt: int,
    policy: RetryPolicy,
    remaining_s: float,
    rand: Callable[[], float] = random.random,
) -> RetryDecision:
    """Decide retry / fallback / fail for ``error`` on retry number ``attempt`` (0 = first call).

    ``remaining_s`` is the time left in the request's total deadline. Rules, first match wins:

    ===========================================  ===========================================
    error                                        decision
    ===========================================  ===========================================
    not a RouterError                            fail — a bug; never mask it
    ProviderStatusError 400, 422                 fail — the request is bad for every model
    ProviderStatusError 401, 403, 404            fallback — this provider/model is unusable
    ProviderStatusError 429, Retry-After known   retry after exactly Retry-After if attempts
                                                 remain and it fits in remaining_s, else
                                                 fallback with cooldown_s = Retry-After
    ProviderStatusError 429, no Retry-After      retry with backoff while attempts remain and
                                                 the delay fits, else fallback with cooldown_s
                                                 = policy.rate_limit_cooldown_s
    ProviderStatusError 408, 409, 5xx            retry with backoff while attempts remain and
                                                 the delay fits, else fallback
    ProviderStatusError other status             fallback — unknown answer from this provider
    ProviderTimeoutError kind="total"            fallback — no time left for a retry
    ProviderConnectionError / other timeouts     retry with backoff (as 5xx), else fallback
    ProviderError (unclassified)                 fallback
    RateLimitedError (local limit)               fallback, cooldown_s = its retry_after
    UnsupportedCapabilityError                   fallback — another model may have it
    ValidationFailedError                        fallback — escalation is the router's call
    CircuitOpenError                             fallback — the breaker already benches it
    any other RouterError (config, budget, …)    fail — retrying elsewhere will not help
    ===========================================  ===========================================

    Retry-After comes from ``error.retry_after`` or, when that is None, ``error.headers``.
    """
    if not isinstance(error, RouterError):
        return _fail(f"unexpected {type(error).__name__}: not a modelrouter error")
    if isinstance(error, ProviderStatusError):
        status = error.status_code
        if status in _BAD_REQUEST_STATUSES:
            return _fail(f"{status}: the request is invalid for any model")
        if status in _UNUSABLE_STATUSES:
            return _fallback(f"{status}: model unusable with these credentials")
        if status == 429:
            return _decide_rate_limit(error, attempt=attempt, policy=policy,
                                      remaining_s=remaining_s, rand=rand)
        if status >= 500 or status in _TRANSIENT_STATUSES:
            return _retry_transient(f"{status}", attempt=attempt, policy=policy,
                                    remaining_s=remaining_s, rand=rand)
        return _fallback(f"{status}: unexpected provider status")
    if isinstance(error, ProviderTimeoutError) and error.kind == "total":
        return _fallback("total timeout: no time left for a retry")
    if isinstance(error, ProviderConnectionError):
        what = (f"{error.kind} timeout" if isinstance(error, ProviderTimeoutError)
                else "connection error")
        return _retry_transient(what, attempt=attempt, policy=policy,
                                remaining_s=remaining_s, rand=rand)
    if isinstance(error, ProviderError):
        return _fallback("provider error")
    if isinstance(error, RateLimitedError):
        return _fallback("local rate limit", cooldown_s=error.retry_after)
    if isinstance(error, UnsupportedCapabilityError):
        return _fallback("model lacks a required capability")
    if isinstance(error, ValidationFailedError):
        return _fallback(f"validator {error.validator!r} rejected the answer")
    if isinstance(error, CircuitOpenError):
        return _fallback("circuit open")
    return _fail(f"{type(error).__name__}: not recoverable by another model")
