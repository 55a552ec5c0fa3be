"""Live state the router mutates (breakers, rate limits, cooldowns) and its snapshot.

Selection reads only the immutable ``LiveState`` snapshot; this object is the I/O-free shell
that keeps it current. Not thread-safe: one per event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from modelrouter.routing.breaker import BreakerBoard
from modelrouter.routing.ratelimit import ModelRateLimit
from modelrouter.routing.selection import LiveState

LimitsFor = Callable[[str, bool], tuple[int | None, int | None] | None]


class LiveRegistry:
    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        window_s: float = 60.0,
        cooldown_s: float = 30.0,
        limits_for: LimitsFor | None = None,
    ) -> None:
        self.breakers = BreakerBoard(
            failure_threshold=failure_threshold, window_s=window_s, cooldown_s=cooldown_s
        )
        self._limits_for = limits_for
        self._limits: dict[str, ModelRateLimit | None] = {}
        self.cooldown_until: dict[str, float] = {}

    def rate_limit(self, model_id: str, free: bool) -> ModelRateLimit | None:
        if model_id not in self._limits:
            limits = self._limits_for(model_id, free) if self._limits_for else None
            self._limits[model_id] = (
                ModelRateLimit(rpm=limits[0], tpm=limits[1])
                if limits is not None and (limits[0] or limits[1])
                else None
            )
        return self._limits[model_id]

    def cool_down(self, model_id: str, until: float) -> None:
        """Skip ``model_id`` until ``until`` (monotonic); never shortens a longer cooldown."""
        if until > self.cooldown_until.get(model_id, 0.0):
            self.cooldown_until[model_id] = until
        limit = self._limits.get(model_id)
        if limit is not None:
            limit.cool_down(until)

    def end_cooldown(self, model_id: str) -> None:
        """Make ``model_id`` selectable again now (operator action, tests, the demo)."""
        self.cooldown_until.pop(model_id, None)
        limit = self._limits.get(model_id)
        if limit is not None:
            limit.end_cooldown()

    def snapshot(self, now: float, budget_remaining_usd: Decimal | None = None) -> LiveState:
        open_breakers: dict[str, float] = {}
        for model_id, snap in self.breakers.snapshot(now).items():
            if snap.state == "open" and snap.open_until is not None:
                open_breakers[model_id] = snap.open_until
        limited: dict[str, float] = {}
        for model_id, limit in self._limits.items():
            if limit is None or limit.rpm is None:
                continue
            available = limit.headroom(now).requests_available
            if available is not None and available < 1:
                limited[model_id] = now + (1 - available) * 60.0 / limit.rpm
        return LiveState(
            now=now,
            cooldown_until=dict(self.cooldown_until),
            open_breakers=open_breakers,
            rate_limited_until=limited,
            budget_remaining_usd=budget_remaining_usd,
        )
