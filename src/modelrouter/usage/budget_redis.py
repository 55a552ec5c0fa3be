"""Budgets in Redis, shared by every process and replica: each operation is one Lua script.

Units: every amount in Redis is an integer number of **nanodollars** (1 USD = 10**9), exact up
to 2**53 (about $9M) because Lua numbers are doubles. Keys, under ``key_prefix``::

    {prefix}defs                    hash  scope -> "period limit_nanos source"
    {prefix}spent:{scope}:{window}  string, spent nanodollars (INCRBY)
    {prefix}resv:{scope}:{window}   sorted set, reservation id scored by expiry (ms, Redis TIME)
    {prefix}amt:{scope}:{window}    hash  reservation id -> reserved nanodollars

The reserve script purges expired reservations, checks every applicable budget and only then
reserves in all of them, so a request is admitted everywhere or nowhere. Window ids come from
the client's UTC clock; expiry uses the server's clock. Scripts touch keys they derive from the
prefix: use one Redis instance (or a Cluster hash tag in the prefix, e.g. ``{mr}:budget:``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

from modelrouter.errors import BudgetExceededError
from modelrouter.usage.budgets import (
    PERIODS,
    Budget,
    BudgetStatus,
    Clock,
    Period,
    Reservation,
    Source,
    from_nanos,
    make_status,
    parse_scope,
    seconds_until_reset,
    to_nanos,
    unique_scopes,
    utc_now,
    window_id,
)

__all__ = ["DEFAULT_KEY_PREFIX", "RedisBudgetStore"]

DEFAULT_KEY_PREFIX = "modelrouter:budget:"

# Shared by the scripts: the budget that applies to a scope and its current window.
_LUA_COMMON = r"""
local function resolve(defs_key, scope)
  local def = redis.call('HGET', defs_key, scope)
  local owner = scope
  if not def and string.sub(scope, 1, 4) == 'key:' then
    def = redis.call('HGET', defs_key, 'key:*')
    owner = 'key:*'
  end
  if not def then return nil end
  local period, limit = string.match(def, '^(%a+) (%d+)')
  return owner, period, tonumber(limit)
end
local function window_for(period, day, month)
  if period == 'day' then return day elseif period == 'month' then return month end
  return 'total'
end
local function counters(prefix, scope, window, now_ms)
  local base = scope .. ':' .. window
  local zkey, akey = prefix .. 'resv:' .. base, prefix .. 'amt:' .. base
  local expired = redis.call('ZRANGEBYSCORE', zkey, '-inf', now_ms)
  if #expired > 0 then
    redis.call('ZREMRANGEBYSCORE', zkey, '-inf', now_ms)
    for i = 1, #expired, 1000 do
      redis.call('HDEL', akey, unpack(expired, i, math.min(i + 999, #expired)))
    end
  end
  local reserved = 0
  for _, v in ipairs(redis.call('HVALS', akey)) do reserved = reserved + tonumber(v) end
  local spent = tonumber(redis.call('GET', prefix .. 'spent:' .. base) or '0')
  return spent, reserved, zkey, akey
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function int(x) return string.format('%.0f', x) end
"""

# KEYS[1] defs; ARGV: prefix, day, month, reservation id, amount, ttl_ms, scope...
_RESERVE = _LUA_COMMON + r"""
local prefix, day, month = ARGV[1], ARGV[2], ARGV[3]
local id, amount, ttl_ms = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local now = now_ms()
local plan = {}
for i = 7, #ARGV do
  local scope = ARGV[i]
  local owner, period, limit = resolve(KEYS[1], scope)
  if owner then
    local window = window_for(period, day, month)
    local spent, reserved, zkey, akey = counters(prefix, scope, window, now)
    if spent + reserved + amount > limit then
      return {0, scope, int(limit), int(spent), int(reserved), period}
    end
    plan[#plan + 1] = {zkey, akey, scope, window}
  end
end
local expires = now + ttl_ms
local held = {1, int(expires)}
for _, p in ipairs(plan) do
  redis.call('ZADD', p[1], expires, id)
  redis.call('HSET', p[2], id, int(amount))
  held[#held + 1] = p[3]
  held[#held + 1] = p[4]
end
return held
"""

# ARGV: prefix, reservation id, actual nanodollars or '' to release, then scope, window pairs
_FINISH = r"""
local prefix, id, actual = ARGV[1], ARGV[2], ARGV[3]
for i = 4, #ARGV, 2 do
  local base = ARGV[i] .. ':' .. ARGV[i + 1]
  redis.call('ZREM', prefix .. 'resv:' .. base, id)
  redis.call('HDEL', prefix .. 'amt:' .. base, id)
  if actual ~= '' then redis.call('INCRBY', prefix .. 'spent:' .. base, actual) end
end
return 1
"""

# KEYS[1] defs; ARGV: prefix, day, month, scope... → flat (scope, owner, period, window,
# limit, spent, reserved) for each scope with a budget
_STATUS = _LUA_COMMON + r"""
local prefix, day, month = ARGV[1], ARGV[2], ARGV[3]
local now = now_ms()
local out = {}
for i = 4, #ARGV do
  local scope = ARGV[i]
  local owner, period, limit = resolve(KEYS[1], scope)
  if owner then
    local window = window_for(period, day, month)
    local spent, reserved = counters(prefix, scope, window, now)
    for _, v in ipairs({scope, owner, period, window, int(limit), int(spent), int(reserved)}) do
      out[#out + 1] = v
    end
  end
end
return out
"""

# KEYS[1] defs; ARGV: scope, value pairs from the config, written unless the CLI set the scope.
_SYNC = r"""
for i = 1, #ARGV, 2 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  if not current or string.match(current, ' (%a+)$') ~= 'cli' then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 1
"""


def _encode(budget: Budget) -> str:
    return f"{budget.period} {to_nanos(budget.limit_usd)} {budget.source}"


def _decode(scope: str, value: str) -> Budget:
    period, limit, source = value.split(" ")
    if period not in PERIODS or source not in ("config", "cli"):
        raise ValueError(f"corrupt budget definition for {scope!r}: {value!r}")
    return Budget(scope, period, from_nanos(int(limit)), cast(Source, source))


class RedisBudgetStore:
    """``BudgetStore`` in Redis (``MODELROUTER_REDIS_URL``), safe across processes."""

    def __init__(
        self, client: Any, *, key_prefix: str | None = None, clock: Clock = utc_now
    ) -> None:
        self._redis = client
        self.key_prefix = key_prefix or DEFAULT_KEY_PREFIX
        self._defs_key = self.key_prefix + "defs"
        self._clock = clock
        self._reserve = client.register_script(_RESERVE)
        self._finish_script = client.register_script(_FINISH)
        self._status = client.register_script(_STATUS)
        self._sync = client.register_script(_SYNC)

    @classmethod
    def from_url(
        cls, url: str, *, key_prefix: str | None = None, clock: Clock = utc_now
    ) -> RedisBudgetStore:
        try:
            import redis
        except ImportError:  # pragma: no cover - depends on the installed extras
            raise ImportError(
                "the Redis budget store needs redis-py: pip install 'modelrouter[redis]'"
            ) from None
        client = redis.Redis.from_url(url, decode_responses=True)
        return cls(client, key_prefix=key_prefix, clock=clock)

    def close(self) -> None:
        self._redis.close()

    # ----------------------------------------------------------------- definitions

    def set_budget(self, budget: Budget) -> None:
        self._redis.hset(self._defs_key, budget.scope, _encode(budget))

    def remove_budget(self, scope: str) -> bool:
        return bool(self._redis.hdel(self._defs_key, parse_scope(scope)))

    def budgets(self) -> list[Budget]:
        found = self._redis.hgetall(self._defs_key)
        return [_decode(scope, found[scope]) for scope in sorted(found)]

    def sync_config(self, budgets: Sequence[Budget]) -> None:
        args: list[str] = []
        for b in budgets:
            args += [b.scope, _encode(Budget(b.scope, b.period, b.limit_usd, "config"))]
        self._sync(keys=[self._defs_key], args=args)

    # ----------------------------------------------------------------- counters

    def _windows(self) -> tuple[datetime, str, str]:
        now = self._clock()
        return now, window_id("day", now), window_id("month", now)

    def reserve(
        self, scopes: Sequence[str], amount: Decimal, *, request_id: str, ttl_s: float = 300
    ) -> Reservation:
        wanted = unique_scopes(scopes)
        nanos = to_nanos(amount)
        ttl_ms = max(1, round(ttl_s * 1000))
        if ttl_s <= 0:
            raise ValueError(f"ttl_s must be > 0, got {ttl_s}")
        reservation_id = f"{request_id}/{uuid.uuid4().hex[:12]}"
        now, day, month = self._windows()
        reply = self._reserve(
            keys=[self._defs_key],
            args=[self.key_prefix, day, month, reservation_id, nanos, ttl_ms, *wanted],
        )
        if int(reply[0]) == 0:
            scope, limit, spent, reserved, period = reply[1:6]
            raise BudgetExceededError(
                scope, from_nanos(int(limit)), from_nanos(int(spent)), from_nanos(int(reserved)),
                retry_after=seconds_until_reset(period, now),
            )
        held = tuple((reply[i], reply[i + 1]) for i in range(2, len(reply), 2))
        return Reservation(
            id=reservation_id, request_id=request_id, amount=from_nanos(nanos), windows=held,
            expires_at=datetime.fromtimestamp(int(reply[1]) / 1000, UTC),
        )

    def settle(self, reservation: Reservation, actual: Decimal) -> None:
        self._finish(reservation, str(to_nanos(actual)))

    def release(self, reservation: Reservation) -> None:
        self._finish(reservation, "")

    def _finish(self, reservation: Reservation, actual: str) -> None:
        if not reservation.windows:
            return
        pairs = [part for window in reservation.windows for part in window]
        self._finish_script(args=[self.key_prefix, reservation.id, actual, *pairs])

    # ----------------------------------------------------------------- reading

    def _statuses(self, scopes: Sequence[str]) -> list[BudgetStatus]:
        wanted = unique_scopes(scopes)
        now, day, month = self._windows()
        flat = self._status(keys=[self._defs_key], args=[self.key_prefix, day, month, *wanted])
        found = []
        for i in range(0, len(flat), 7):
            scope, owner, period, window, limit, spent, reserved = flat[i:i + 7]
            budget = Budget(owner, cast(Period, period), from_nanos(int(limit)))
            found.append(make_status(scope, budget, window, int(spent), int(reserved), now))
        return found

    def status(self, scope: str) -> BudgetStatus | None:
        found = self._statuses([scope])
        return found[0] if found else None

    def remaining(self, scopes: Sequence[str]) -> Decimal | None:
        return min((s.remaining for s in self._statuses(scopes)), default=None)
