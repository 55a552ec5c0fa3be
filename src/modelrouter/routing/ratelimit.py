"""Token buckets for requests and tokens per minute, with explicit time so limits are testable.

Not thread-safe on purpose: the router is async and single-threaded per event loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["ModelRateLimit", "RateHeadroom", "TokenBucket"]


class TokenBucket:
    """Holds up to ``capacity`` units, refilled continuously at ``refill_per_s``; starts full.

    Time is monotonic seconds passed in by the caller; a ``now`` earlier than the last one seen
    refills nothing rather than draining the bucket.
    """

    def __init__(self, capacity: float, refill_per_s: float) -> None:
        if not capacity > 0 or math.isinf(capacity):
            raise ValueError(f"capacity must be a positive finite number, got {capacity}")
        if not refill_per_s >= 0 or math.isinf(refill_per_s):
            raise ValueError(f"refill_per_s must be a finite number >= 0, got {refill_per_s}")
        self.capacity = float(capacity)
        self.refill_per_s = float(refill_per_s)
        self._level = self.capacity
        self._updated: float | None = None

    def _refill(self, now: float) -> None:
        if self._updated is not None and now > self._updated:
            elapsed = now - self._updated
            self._level = min(self.capacity, self._level + elapsed * self.refill_per_s)
        if self._updated is None or now > self._updated:
            self._updated = now

    def available(self, now: float) -> float:
        """Units that could be taken at ``now``."""
        self._refill(now)
        return self._level

    def wait_time(self, amount: float, now: float) -> float:
        """Seconds until ``amount`` is available: 0.0 if it is now, inf if it never will be."""
        _check_amount(amount)
        if amount > self.capacity:
            return math.inf
        deficit = amount - self.available(now)
        if deficit <= 0:
            return 0.0
        if self.refill_per_s == 0:
            return math.inf
        return deficit / self.refill_per_s

    def try_take(self, amount: float, now: float) -> bool:
        """Take ``amount`` if it is all available; otherwise take nothing."""
        if self.wait_time(amount, now) > 0:
            return False
        self._level -= amount
        return True

    def give_back(self, amount: float, now: float) -> None:
        """Return units taken on an overestimate (e.g. max_tokens vs tokens used); capped."""
        _check_amount(amount)
        self._refill(now)
        self._level = min(self.capacity, self._level + amount)


def _check_amount(amount: float) -> None:
    if not amount >= 0:
        raise ValueError(f"amount must be >= 0, got {amount}")


@dataclass(frozen=True, slots=True)
class RateHeadroom:
    """What a model can take right now; None means no limit is configured."""

    requests_available: float | None
    tokens_available: float | None
    cooldown_until: float | None = None


class ModelRateLimit:
    """A model's requests-per-minute and tokens-per-minute limits plus a 429 cooldown.

    ``None`` for ``rpm`` or ``tpm`` means that dimension is unlimited. Both buckets are debited
    together or not at all, so a refused request never consumes quota.
    """

    def __init__(self, rpm: int | None = None, tpm: int | None = None) -> None:
        self.rpm = rpm
        self.tpm = tpm
        self._requests = TokenBucket(rpm, rpm / 60.0) if rpm is not None else None
        self._tokens = TokenBucket(tpm, tpm / 60.0) if tpm is not None else None
        self._cooldown_until: float | None = None

    def cool_down(self, until: float) -> None:
        """Refuse every request until ``until`` (monotonic seconds); never shortens a cooldown."""
        if self._cooldown_until is None or until > self._cooldown_until:
            self._cooldown_until = until

    def end_cooldown(self) -> None:
        """Lift a cooldown early (an operator's decision; a 429 never shortens one)."""
        self._cooldown_until = None

    def _cooldown_left(self, now: float) -> float:
        if self._cooldown_until is None:
            return 0.0
        if now >= self._cooldown_until:
            self._cooldown_until = None
            return 0.0
        return self._cooldown_until - now

    def try_acquire(self, tokens: int, now: float) -> float:
        """0.0 if admitted (one request and ``tokens`` debited), else seconds to wait.

        The wait is the cooldown left, or the longer of the two buckets' waits; inf when
        ``tokens`` exceeds the tokens-per-minute capacity and can never be admitted.
        """
        cooldown = self._cooldown_left(now)
        if cooldown > 0:
            return cooldown
        wait = 0.0
        if self._requests is not None:
            wait = max(wait, self._requests.wait_time(1, now))
        if self._tokens is not None:
            wait = max(wait, self._tokens.wait_time(tokens, now))
        if wait > 0:
            return wait
        if self._requests is not None:
            self._requests.try_take(1, now)
        if self._tokens is not None:
            self._tokens.try_take(tokens, now)
        return 0.0

    def release_tokens(self, tokens: int, now: float) -> None:
        """Give back tokens reserved but not used (estimate minus actual usage)."""
        if self._tokens is not None:
            self._tokens.give_back(tokens, now)

    def headroom(self, now: float) -> RateHeadroom:
        """A frozen view for the selection snapshot."""
        self._cooldown_left(now)  # clears an expired cooldown
        return RateHeadroom(
            requests_available=self._requests.available(now) if self._requests else None,
            tokens_available=self._tokens.available(now) if self._tokens else None,
            cooldown_until=self._cooldown_until,
        )
