"""Per-key requests-per-minute and tokens-per-minute limits, shared by replicas through Redis.

``RedisRateLimiter`` runs one Lua script per ``acquire`` (one round trip, atomic):

- requests: an exact **sliding-window log** (sorted set of admission times, Redis clock): in any
  60 s window at most ``rpm`` requests are admitted, whichever replica admits them;
- tokens: a **token bucket** (capacity ``tpm``, refilled at ``tpm``/60 s) debited by the
  estimate; ``adjust`` settles it to the real usage (a refund, or a debt the next requests wait
  out).

A request is admitted on both or neither. ``retry_after_s`` is when it would be admitted (``inf``:
never, it asks for more tokens than ``tpm``; answer 413/400 rather than 429). Redis errors
propagate: the gateway chooses to fail open or closed.

``LocalRateLimiter`` is the single-process fallback without Redis: the routing token buckets
(``routing.ratelimit.TokenBucket``) for both dimensions, so up to ``rpm`` can burst at once and
then ``rpm``/60 per second follow. Limits are per process: N workers without Redis allow N×.
"""

from __future__ import annotations

import itertools
import math
import os
import secrets
import time
from typing import Any, Protocol

from modelrouter.routing.ratelimit import TokenBucket

__all__ = [
    "DEFAULT_KEY_PREFIX",
    "LocalRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "open_rate_limiter",
]

DEFAULT_KEY_PREFIX = "modelrouter:limit:"
REDIS_URL_ENV = "MODELROUTER_REDIS_URL"
WINDOW_S = 60.0

# KEYS[1] request log (zset), KEYS[2] token bucket (hash level, ts)
# ARGV: rpm (0 = none), tpm (0 = none), tokens, window_ms, member → {admitted, wait_ms or -1}
_ACQUIRE = r"""
local rpm, tpm, tokens = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local window, member = tonumber(ARGV[4]), ARGV[5]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
if rpm > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[1])
  if count >= rpm then
    local oldest = redis.call('ZRANGE', KEYS[1], count - rpm, count - rpm, 'WITHSCORES')
    wait = math.max(1, tonumber(oldest[2]) + window - now)
  end
end
local level = 0
if tpm > 0 then
  if tokens > tpm then return {0, -1} end
  local h = redis.call('HMGET', KEYS[2], 'level', 'ts')
  level = tonumber(h[1]) or tpm
  local last = tonumber(h[2]) or now
  if now > last then level = math.min(tpm, level + (now - last) * tpm / window) end
  if level < tokens then
    wait = math.max(wait, math.ceil((tokens - level) * window / tpm))
  end
end
if wait > 0 then return {0, wait} end
if rpm > 0 then
  redis.call('ZADD', KEYS[1], now, member)
  redis.call('PEXPIRE', KEYS[1], window)
end
if tpm > 0 then
  redis.call('HSET', KEYS[2], 'level', tostring(level - tokens), 'ts', now)
  redis.call('PEXPIRE', KEYS[2], window)
end
return {1, 0}
"""

# KEYS[1] token bucket; ARGV: tpm, delta (+ used more than estimated, - refund), window_ms
_ADJUST = r"""
local tpm, delta, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', KEYS[1], 'level', 'ts')
local level = tonumber(h[1]) or tpm
local last = tonumber(h[2]) or now
if now > last then level = math.min(tpm, level + (now - last) * tpm / window) end
level = math.min(tpm, level - delta)
redis.call('HSET', KEYS[1], 'level', tostring(level), 'ts', now)
redis.call('PEXPIRE', KEYS[1], window * 2)
return 1
"""


class RateLimiter(Protocol):
    """What the gateway calls: admit-or-wait, then settle the token estimate."""

    async def acquire(
        self, key_id: str, tokens: int, *, rpm: int | None, tpm: int | None
    ) -> tuple[bool, float]:
        """``(True, 0.0)`` and one request + ``tokens`` debited, or ``(False, retry_after_s)``."""
        ...

    async def adjust(self, key_id: str, actual_tokens_delta: int, *, tpm: int | None) -> None:
        """Debit (positive) or refund (negative) the difference between estimate and usage."""
        ...

    async def close(self) -> None: ...


class RedisRateLimiter:
    """Limits shared by every replica on one Redis; one script call per ``acquire``."""

    def __init__(self, client: Any, *, key_prefix: str | None = None,
                 window_s: float = WINDOW_S) -> None:
        self._redis = client
        self.key_prefix = key_prefix or DEFAULT_KEY_PREFIX
        self._window_ms = max(1, round(window_s * 1000))
        self._acquire = client.register_script(_ACQUIRE)
        self._adjust = client.register_script(_ADJUST)
        self._node = f"{os.getpid()}.{secrets.token_hex(3)}."
        self._seq = itertools.count()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisRateLimiter:
        import redis.asyncio

        return cls(redis.asyncio.Redis.from_url(url), **options)

    def _keys(self, key_id: str) -> list[str]:
        base = f"{self.key_prefix}{{{key_id}}}"  # a hash tag: both keys on one Cluster slot
        return [base + ":req", base + ":tok"]

    async def acquire(
        self, key_id: str, tokens: int, *, rpm: int | None, tpm: int | None
    ) -> tuple[bool, float]:
        if not rpm and not tpm:
            return True, 0.0
        member = self._node + str(next(self._seq))
        admitted, wait_ms = await self._acquire(
            keys=self._keys(key_id),
            args=[rpm or 0, tpm or 0, max(0, tokens), self._window_ms, member],
        )
        if int(admitted):
            return True, 0.0
        wait = int(wait_ms)
        return False, math.inf if wait < 0 else wait / 1000.0

    async def adjust(self, key_id: str, actual_tokens_delta: int, *, tpm: int | None) -> None:
        if not tpm or actual_tokens_delta == 0:
            return
        await self._adjust(keys=self._keys(key_id)[1:],
                           args=[tpm, actual_tokens_delta, self._window_ms])

    async def close(self) -> None:
        await self._redis.aclose()


class LocalRateLimiter:
    """In-process token buckets per key (one replica, no Redis); not thread-safe (asyncio)."""

    def __init__(self, *, window_s: float = WINDOW_S, clock: Any = time.monotonic) -> None:
        self._window_s = window_s
        self._clock = clock
        self._buckets: dict[str, tuple[int | None, int | None, TokenBucket | None,
                                       TokenBucket | None]] = {}

    def _for(self, key_id: str, rpm: int | None, tpm: int | None) -> tuple[
            TokenBucket | None, TokenBucket | None]:
        found = self._buckets.get(key_id)
        if found is None or found[0] != rpm or found[1] != tpm:
            requests = TokenBucket(rpm, rpm / self._window_s) if rpm else None
            tokens = TokenBucket(tpm, tpm / self._window_s) if tpm else None
            found = (rpm, tpm, requests, tokens)
            self._buckets[key_id] = found
        return found[2], found[3]

    async def acquire(
        self, key_id: str, tokens: int, *, rpm: int | None, tpm: int | None
    ) -> tuple[bool, float]:
        if not rpm and not tpm:
            return True, 0.0
        requests, token_bucket = self._for(key_id, rpm, tpm)
        now = self._clock()
        wait = requests.wait_time(1, now) if requests else 0.0
        if token_bucket is not None:
            wait = max(wait, token_bucket.wait_time(max(0, tokens), now))
        if wait > 0:
            return False, wait
        if requests is not None:
            requests.try_take(1, now)
        if token_bucket is not None:
            token_bucket.try_take(max(0, tokens), now)
        return True, 0.0

    async def adjust(self, key_id: str, actual_tokens_delta: int, *, tpm: int | None) -> None:
        found = self._buckets.get(key_id)
        bucket = found[3] if found else None
        if bucket is None or actual_tokens_delta == 0:
            return
        now = self._clock()
        if actual_tokens_delta < 0:
            bucket.give_back(-actual_tokens_delta, now)
        else:  # a bucket cannot go into debt: take what is there
            bucket.try_take(min(actual_tokens_delta, bucket.available(now)), now)

    async def close(self) -> None:
        self._buckets.clear()


def open_rate_limiter(url: str | None = None, *, key_prefix: str | None = None) -> RateLimiter:
    """Redis when ``url`` or ``MODELROUTER_REDIS_URL`` is set, else the in-process limiter."""
    target = url or os.environ.get(REDIS_URL_ENV)
    if target:
        return RedisRateLimiter.from_url(target, key_prefix=key_prefix)
    return LocalRateLimiter()
