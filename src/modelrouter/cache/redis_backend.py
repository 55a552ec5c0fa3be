"""The Redis backend: entries shared by every process and replica that uses one prefix.

Per namespace ``N`` under prefix ``P``: ``P:N:e:<key>`` holds the entry with a Redis TTL,
``P:N:lru`` is a sorted set of keys by last access (trimmed to the namespace's size on every
store), ``P:N:exp`` the expiry time of each key (so expired keys leave ``lru``), ``P:N:stats``
a hash of hits and misses, and ``P:namespaces`` the set of namespaces. Each lookup and each
store is one Lua script: one round trip, atomic.
"""

from __future__ import annotations

import re
import time
from typing import Any

from modelrouter.cache.backends import Counts

DEFAULT_PREFIX = "modelrouter:cache"

_LOOKUP = """
local v = redis.call('GET', KEYS[1])
redis.call('SADD', KEYS[6], ARGV[2])
if v then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), ARGV[1])
  redis.call('HINCRBY', KEYS[5], 'hits', 1)
else
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('HINCRBY', KEYS[5], 'misses', 1)
end
return v
"""

_PURGE_EXPIRED = """
local function purge(lru, exp, now)
  local expired = redis.call('ZRANGEBYSCORE', exp, '-inf', now)
  for _, k in ipairs(expired) do redis.call('ZREM', lru, k) end
  if #expired > 0 then redis.call('ZREMRANGEBYSCORE', exp, '-inf', now) end
end
"""

_STORE = _PURGE_EXPIRED + """
local ttl_ms = tonumber(ARGV[4])
if ttl_ms > 0 then
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ttl_ms)
  redis.call('ZADD', KEYS[3], tonumber(ARGV[6]) + ttl_ms, ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[3])
  redis.call('ZREM', KEYS[3], ARGV[1])
end
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), ARGV[1])
redis.call('SADD', KEYS[6], ARGV[2])
purge(KEYS[2], KEYS[3], ARGV[6])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if over > 0 then
  local victims = redis.call('ZRANGE', KEYS[2], 0, over - 1)
  for _, k in ipairs(victims) do
    redis.call('DEL', ARGV[7] .. k)
    redis.call('ZREM', KEYS[3], k)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
end
return over
"""

_COUNTS = _PURGE_EXPIRED + """
purge(KEYS[1], KEYS[2], ARGV[1])
local stats = redis.call('HMGET', KEYS[3], 'hits', 'misses')
return {tonumber(stats[1]) or 0, tonumber(stats[2]) or 0, redis.call('ZCARD', KEYS[1])}
"""


def _import_redis() -> Any:
    try:
        import redis
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise ImportError(
            "the Redis cache needs redis-py: pip install 'modelrouter[redis]'"
        ) from None
    return redis


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def _public_url(url: str) -> str:
    return re.sub(r"://[^@/]*@", "://***@", url)


class RedisBackend:
    """Entries in Redis under ``prefix``; pass ``client`` to reuse a ``redis.Redis``."""

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", *,
                 prefix: str = DEFAULT_PREFIX, client: Any = None) -> None:
        redis = _import_redis()
        # Redis down or slow: a miss for the caller, never a failed request.
        self.transient_errors: tuple[type[BaseException], ...] = (
            redis.exceptions.RedisError, OSError,
        )
        self.prefix = prefix.rstrip(":")
        self.url = f"{_public_url(url)} (prefix {self.prefix})"
        self._client = client if client is not None else redis.Redis.from_url(
            url, socket_connect_timeout=2.0, socket_timeout=2.0
        )
        self._lookup = self._client.register_script(_LOOKUP)
        self._store = self._client.register_script(_STORE)
        self._counts = self._client.register_script(_COUNTS)

    def _keys(self, namespace: str, key: str = "") -> list[str]:
        base = f"{self.prefix}:{namespace}:"
        return [base + "e:" + key, base + "lru", base + "exp", base + "tick", base + "stats",
                f"{self.prefix}:namespaces"]

    def lookup(self, namespace: str, key: str) -> str | None:
        value = self._lookup(keys=self._keys(namespace, key), args=[key, namespace])
        if value is None:
            return None
        return value.decode("utf-8") if isinstance(value, bytes) else str(value)

    def store(self, namespace: str, key: str, payload: str, *, ttl_s: float | None,
              max_entries: int) -> None:
        ttl_ms = 0 if ttl_s is None else max(1, round(ttl_s * 1000))
        now_ms = int(time.time() * 1000)
        self._store(
            keys=self._keys(namespace, key),
            args=[key, namespace, payload, ttl_ms, max_entries, now_ms,
                  f"{self.prefix}:{namespace}:e:"],
        )

    def _namespaces(self) -> list[str]:
        names = self._client.smembers(f"{self.prefix}:namespaces")
        return sorted(n.decode() if isinstance(n, bytes) else str(n) for n in names)

    def counts(self) -> dict[str, Counts]:
        now_ms = int(time.time() * 1000)
        result = {}
        for name in self._namespaces():
            keys = self._keys(name)
            hits, misses, entries = self._counts(keys=[keys[1], keys[2], keys[4]], args=[now_ms])
            result[name] = Counts(int(hits), int(misses), int(entries))
        return result

    def clear(self, namespace: str | None = None) -> int:
        names = self._namespaces() if namespace is None else [namespace]
        removed = 0
        for name in names:
            base = f"{self.prefix}:{name}:"
            doomed = []
            for found in self._client.scan_iter(match=_glob_escape(base) + "*", count=1000):
                text = found.decode() if isinstance(found, bytes) else str(found)
                removed += text.startswith(base + "e:")
                doomed.append(found)
                if len(doomed) >= 500:
                    self._client.delete(*doomed)
                    doomed = []
            if doomed:
                self._client.delete(*doomed)
            self._client.srem(f"{self.prefix}:namespaces", name)
        return removed

    def close(self) -> None:
        self._client.close()


__all__ = ["DEFAULT_PREFIX", "RedisBackend"]
