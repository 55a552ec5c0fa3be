"""Per-model circuit breakers with explicit time, so transitions are testable without a clock.

Not thread-safe on purpose: the router is async and single-threaded per event loop.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

__all__ = ["BreakerBoard", "BreakerSnapshot", "BreakerState", "CircuitBreaker"]

BreakerState = Literal["closed", "open", "half_open"]


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    """A breaker's state for the selection layer; times are monotonic seconds."""

    state: BreakerState
    failures_in_window: int
    opened_at: float | None
    open_until: float | None


class CircuitBreaker:
    """Closed → open after ``failure_threshold`` failures within ``window_s`` → half-open after
    ``cooldown_s`` → one probe → closed on success, open again (fresh cooldown) on failure.

    ==========  ===============================  =============================================
    state       event                            result
    ==========  ===============================  =============================================
    closed      failure, count in window < N     closed (failure remembered for window_s)
    closed      failure, count in window == N    open, opened_at = now
    closed      success                          closed, failure window cleared
    closed      allow                            True
    open        allow before opened_at+cooldown  False
    open        allow at/after opened_at+cooldn  half_open, the probe is handed out: True
    open        success / failure                ignored (a straggler from before opening)
    half_open   allow while the probe is out     False
    half_open   allow, probe out >= cooldown_s   True — the probe is presumed lost, reissued
    half_open   success                          closed, failures cleared
    half_open   failure                          open, opened_at = now (fresh cooldown)
    ==========  ===============================  =============================================

    A success in closed clears the window: the breaker trips on N failures without a success in
    between, which is what most breakers do and avoids tripping on a sparse error rate.
    """

    def __init__(
        self, failure_threshold: int = 5, window_s: float = 60.0, cooldown_s: float = 30.0
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1, got {failure_threshold}")
        if window_s <= 0 or cooldown_s < 0:
            raise ValueError("window_s must be > 0 and cooldown_s >= 0")
        self.failure_threshold = failure_threshold
        self.window_s = window_s
        self.cooldown_s = cooldown_s
        self._state: BreakerState = "closed"
        self._failures: deque[float] = deque()
        self._opened_at: float | None = None
        self._probe_at: float | None = None

    @property
    def state(self) -> BreakerState:
        """The state after the last event; an elapsed cooldown shows only on ``allow``."""
        return self._state

    @property
    def open_until(self) -> float | None:
        """When an open breaker starts admitting a probe; None unless open."""
        if self._state != "open" or self._opened_at is None:
            return None
        return self._opened_at + self.cooldown_s

    def _prune(self, now: float) -> None:
        while self._failures and now - self._failures[0] >= self.window_s:
            self._failures.popleft()

    def _open(self, now: float) -> None:
        self._state = "open"
        self._opened_at = now
        self._probe_at = None

    def allow(self, now: float) -> bool:
        """Whether a call may go out now; in half-open, hands out the single probe."""
        if self._state == "closed":
            return True
        if self._state == "open":
            until = self.open_until
            if until is not None and now < until:
                return False
            self._state = "half_open"
            self._probe_at = now
            return True
        if self._probe_at is not None and now - self._probe_at < self.cooldown_s:
            return False
        self._probe_at = now  # the previous probe never reported back
        return True

    def record_success(self, now: float) -> None:
        """A call succeeded: closes a half-open breaker and clears the failure window."""
        if self._state == "open":
            return
        self._state = "closed"
        self._failures.clear()
        self._opened_at = None
        self._probe_at = None

    def record_failure(self, now: float) -> None:
        """A call failed: counts toward opening, or re-opens a half-open breaker."""
        if self._state == "open":
            return
        if self._state == "half_open":
            self._open(now)
            return
        self._prune(now)
        self._failures.append(now)
        if len(self._failures) >= self.failure_threshold:
            self._open(now)

    def snapshot(self, now: float | None = None) -> BreakerSnapshot:
        """A frozen view; with ``now``, stale failures are dropped and an elapsed cooldown
        reads as half_open (without handing out the probe)."""
        state = self._state
        failures = len(self._failures)
        if now is not None:
            if state == "closed":
                self._prune(now)
                failures = len(self._failures)
            until = self.open_until
            if state == "open" and until is not None and now >= until:
                state = "half_open"
        return BreakerSnapshot(
            state=state,
            failures_in_window=failures,
            opened_at=self._opened_at,
            open_until=self.open_until if state == "open" else None,
        )


class BreakerBoard:
    """One breaker per model id, created on first use with shared settings.

    Not thread-safe: the router is async and single-threaded per event loop.
    """

    def __init__(
        self, failure_threshold: int = 5, window_s: float = 60.0, cooldown_s: float = 30.0
    ) -> None:
        CircuitBreaker(failure_threshold, window_s, cooldown_s)  # validate settings eagerly
        self.failure_threshold = failure_threshold
        self.window_s = window_s
        self.cooldown_s = cooldown_s
        self._breakers: dict[str, CircuitBreaker] = {}

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._breakers

    def get(self, model_id: str) -> CircuitBreaker:
        """The breaker for ``model_id``, created closed if it did not exist."""
        breaker = self._breakers.get(model_id)
        if breaker is None:
            breaker = CircuitBreaker(self.failure_threshold, self.window_s, self.cooldown_s)
            self._breakers[model_id] = breaker
        return breaker

    def allow(self, model_id: str, now: float) -> bool:
        return self.get(model_id).allow(now)

    def record_success(self, model_id: str, now: float) -> None:
        self.get(model_id).record_success(now)

    def record_failure(self, model_id: str, now: float) -> None:
        self.get(model_id).record_failure(now)

    def snapshot(self, now: float | None = None) -> dict[str, BreakerSnapshot]:
        """Every known breaker's snapshot, by model id."""
        return {model_id: b.snapshot(now) for model_id, b in self._breakers.items()}
