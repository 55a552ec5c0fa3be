"""Idempotency keys: a repeated request (same key, same body) within 24 h gets the first answer.

``begin(idem_key, body_hash)`` is atomic across replicas and answers one of:

- ``new``: this caller runs the request, then calls ``complete`` (or ``abandon`` on failure, so a
  retry can run it again);
- ``replay``: ``stored`` holds the first response: send it back, bill nothing;
- ``conflict``: the key was used with another body: answer **409**;
- ``in_flight``: the first request is still running after waiting ``wait_s``: answer **409**
  with ``Retry-After`` (the body says "in progress"; 425 is not understood by most clients).

A pending marker holds for ``lease_s`` (default 300 s) so a replica that dies mid-request does
not block the key forever; a completed response is kept ``ttl_s`` (24 h). Callers scope keys per
tenant: pass ``f"{key_id}:{header}"``. Redis (``MODELROUTER_REDIS_URL``) when set, else SQLite.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

__all__ = [
    "Begin",
    "IdempotencyStore",
    "RedisIdempotencyStore",
    "SqliteIdempotencyStore",
    "StoredResponse",
    "body_hash",
    "open_idempotency_store",
]

State = Literal["new", "replay", "conflict", "in_flight"]
DEFAULT_KEY_PREFIX = "modelrouter:idem:"
TTL_S = 24 * 3600.0
LEASE_S = 300.0
WAIT_S = 10.0
POLL_S = 0.05
MAX_KEY_CHARS = 300


_STATES: dict[str, State] = {"new": "new", "conflict": "conflict", "in_flight": "in_flight"}


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Begin:
    state: State
    stored: StoredResponse | None = None


def _check_key(idem_key: str) -> None:
    if not idem_key or len(idem_key) > MAX_KEY_CHARS:
        raise ValueError(f"an idempotency key has 1..{MAX_KEY_CHARS} characters")


class IdempotencyStore(Protocol):
    async def begin(self, idem_key: str, body_hash: str, *, wait_s: float = WAIT_S) -> Begin: ...

    async def complete(
        self, idem_key: str, status: int, headers: Mapping[str, str], body: bytes
    ) -> None: ...

    async def abandon(self, idem_key: str) -> None: ...

    async def close(self) -> None: ...


async def _begin_waiting(
    attempt: Any, idem_key: str, digest: str, wait_s: float
) -> Begin:
    _check_key(idem_key)
    deadline = time.monotonic() + wait_s
    while True:
        found: Begin = await attempt(idem_key, digest)
        if found.state != "in_flight" or time.monotonic() >= deadline:
            return found
        await asyncio.sleep(POLL_S)


# --------------------------------------------------------------------------- Redis

# KEYS[1] the entry (hash); ARGV: body hash, lease_ms → {state, status, headers, body}
_BEGIN = r"""
local found = redis.call('HMGET', KEYS[1], 'hash', 'state', 'status', 'headers', 'body')
if not found[1] then
  redis.call('HSET', KEYS[1], 'hash', ARGV[1], 'state', 'pending')
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'new'}
end
if found[1] ~= ARGV[1] then return {'conflict'} end
if found[2] == 'done' then return {'replay', found[3], found[4], found[5]} end
return {'in_flight'}
"""

# KEYS[1]; ARGV: status, headers json, body, ttl_ms — only over this key's pending marker
_COMPLETE = r"""
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'status', ARGV[1], 'headers', ARGV[2],
           'body', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
"""

_ABANDON = r"""
if redis.call('HGET', KEYS[1], 'state') == 'pending' then redis.call('DEL', KEYS[1]) end
return 1
"""


class RedisIdempotencyStore:
    """Shared by replicas: each call is one Lua script on one hash key."""

    def __init__(self, client: Any, *, key_prefix: str | None = None, ttl_s: float = TTL_S,
                 lease_s: float = LEASE_S) -> None:
        self._redis = client
        self.key_prefix = key_prefix or DEFAULT_KEY_PREFIX
        self._ttl_ms = round(ttl_s * 1000)
        self._lease_ms = round(lease_s * 1000)
        self._begin = client.register_script(_BEGIN)
        self._complete = client.register_script(_COMPLETE)
        self._abandon = client.register_script(_ABANDON)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisIdempotencyStore:
        import redis.asyncio

        return cls(redis.asyncio.Redis.from_url(url), **options)

    async def _attempt(self, idem_key: str, digest: str) -> Begin:
        reply = await self._begin(keys=[self.key_prefix + idem_key], args=[digest, self._lease_ms])
        state = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
        if state != "replay":
            return Begin(_STATES[state])
        status, headers, body = reply[1:4]
        return Begin("replay", StoredResponse(int(status), json.loads(headers), bytes(body)))

    async def begin(self, idem_key: str, body_hash: str, *, wait_s: float = WAIT_S) -> Begin:
        return await _begin_waiting(self._attempt, idem_key, body_hash, wait_s)

    async def complete(
        self, idem_key: str, status: int, headers: Mapping[str, str], body: bytes
    ) -> None:
        await self._complete(keys=[self.key_prefix + idem_key],
                             args=[status, json.dumps(dict(headers)), body, self._ttl_ms])

    async def abandon(self, idem_key: str) -> None:
        await self._abandon(keys=[self.key_prefix + idem_key])

    async def close(self) -> None:
        await self._redis.aclose()


# --------------------------------------------------------------------------- SQLite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    body_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    status INTEGER,
    headers TEXT,
    body BLOB,
    expires_at REAL NOT NULL
)"""


class SqliteIdempotencyStore:
    """One host's replicas sharing a SQLite file; each call is one short transaction.

    Calls run in a worker thread so the event loop never waits on the file lock."""

    def __init__(self, path: str | Path | None = None, *, ttl_s: float = TTL_S,
                 lease_s: float = LEASE_S) -> None:
        if path is None:
            from modelrouter.paths import user_data_dir

            path = user_data_dir() / "gateway.db"
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._ttl_s = ttl_s
        self._lease_s = lease_s
        self._lock = threading.Lock()
        self._calls = 0
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=5)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute(_SCHEMA)

    def _attempt_sync(self, idem_key: str, digest: str) -> Begin:
        now = time.time()
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                self._calls += 1
                if self._calls % 256 == 0:  # now and then, drop what has expired
                    db.execute("DELETE FROM idempotency WHERE expires_at < ?", (now,))
                else:
                    db.execute("DELETE FROM idempotency WHERE key = ? AND expires_at < ?",
                               (idem_key, now))
                inserted = db.execute(
                    "INSERT OR IGNORE INTO idempotency (key, body_hash, state, expires_at)"
                    " VALUES (?, ?, 'pending', ?)", (idem_key, digest, now + self._lease_s),
                ).rowcount
                row = None if inserted else db.execute(
                    "SELECT body_hash, state, status, headers, body FROM idempotency"
                    " WHERE key = ?", (idem_key,)).fetchone()
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        if row is None:
            return Begin("new")
        if row[0] != digest:
            return Begin("conflict")
        if row[1] != "done":
            return Begin("in_flight")
        return Begin("replay", StoredResponse(int(row[2]), json.loads(row[3]), bytes(row[4])))

    async def _attempt(self, idem_key: str, digest: str) -> Begin:
        return await asyncio.to_thread(self._attempt_sync, idem_key, digest)

    async def begin(self, idem_key: str, body_hash: str, *, wait_s: float = WAIT_S) -> Begin:
        return await _begin_waiting(self._attempt, idem_key, body_hash, wait_s)

    def _complete_sync(self, idem_key: str, status: int, headers: str, body: bytes) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE idempotency SET state = 'done', status = ?, headers = ?, body = ?,"
                " expires_at = ? WHERE key = ? AND state = 'pending'",
                (status, headers, body, time.time() + self._ttl_s, idem_key))

    async def complete(
        self, idem_key: str, status: int, headers: Mapping[str, str], body: bytes
    ) -> None:
        await asyncio.to_thread(self._complete_sync, idem_key, status,
                                json.dumps(dict(headers)), body)

    def _abandon_sync(self, idem_key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM idempotency WHERE key = ? AND state = 'pending'",
                             (idem_key,))

    async def abandon(self, idem_key: str) -> None:
        await asyncio.to_thread(self._abandon_sync, idem_key)

    async def close(self) -> None:
        with self._lock:
            self._db.close()


def open_idempotency_store(url: str | None = None, **options: Any) -> IdempotencyStore:
    """Redis for ``redis://…`` (or ``MODELROUTER_REDIS_URL``), else SQLite (a path or
    ``sqlite:///path``; default ``user_data_dir()/gateway.db``)."""
    target = url or os.environ.get("MODELROUTER_REDIS_URL") or None
    if target is not None and target.startswith(("redis://", "rediss://", "unix://")):
        return RedisIdempotencyStore.from_url(target, **options)
    path = None if target is None else target.removeprefix("sqlite://")
    return SqliteIdempotencyStore(path, **options)
