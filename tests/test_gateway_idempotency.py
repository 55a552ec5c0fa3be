"""Idempotency keys on SQLite and Redis, each with two store instances standing for replicas."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelrouter.gateway.idempotency import (
    RedisIdempotencyStore,
    SqliteIdempotencyStore,
    StoredResponse,
    body_hash,
    open_idempotency_store,
)
from tests.test_gateway_limits import REDIS_URL, require_redis

BODY = b'{"model":"auto","messages":[]}'
H = body_hash(BODY)


@pytest.fixture(params=["sqlite", "redis"])
def replicas(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """``make(**options)`` → two stores sharing one backend (two replicas)."""
    import uuid

    prefix = f"mrtest:idem:{uuid.uuid4().hex}:"
    client = require_redis() if request.param == "redis" else None

    def make(**options: Any) -> tuple[Any, Any]:
        if request.param == "sqlite":
            return tuple(SqliteIdempotencyStore(tmp_path / "gw.db", **options) for _ in "ab")
        return tuple(RedisIdempotencyStore.from_url(REDIS_URL, key_prefix=prefix, **options)
                     for _ in "ab")

    yield make
    if client is not None:
        found = list(client.scan_iter(match=prefix + "*"))
        if found:
            client.delete(*found)
        client.close()


async def _close(*stores: Any) -> None:
    for store in stores:
        await store.close()


def test_replay_across_replicas_and_conflict(replicas: Any) -> None:
    async def main() -> list[Any]:
        a, b = replicas()
        first = await a.begin("k1:abc", H)
        await a.complete("k1:abc", 200, {"content-type": "application/json"}, b'{"id":1}\xff')
        again = await b.begin("k1:abc", H)
        other = await b.begin("k1:abc", body_hash(b"something else"))
        fresh = await b.begin("k2:abc", H)  # another tenant's key with the same header
        await _close(a, b)
        return [first, again, other, fresh]

    first, again, other, fresh = asyncio.run(main())
    assert first.state == "new" and first.stored is None
    assert again.state == "replay"
    assert again.stored == StoredResponse(200, {"content-type": "application/json"},
                                          b'{"id":1}\xff')
    assert other.state == "conflict" and fresh.state == "new"


def test_in_flight_waits_then_gives_up(replicas: Any) -> None:
    async def main() -> tuple[Any, float]:
        a, b = replicas()
        await a.begin("k", H)
        started = time.monotonic()
        second = await b.begin("k", H, wait_s=0.3)
        waited = time.monotonic() - started
        await _close(a, b)
        return second, waited

    second, waited = asyncio.run(main())
    assert second.state == "in_flight" and 0.3 <= waited < 2.0


def test_waiter_gets_the_first_response_when_it_completes(replicas: Any) -> None:
    async def main() -> Any:
        a, b = replicas()
        await a.begin("k", H)

        async def finish() -> None:
            await asyncio.sleep(0.2)
            await a.complete("k", 201, {}, b"done")

        task = asyncio.create_task(finish())
        second = await b.begin("k", H, wait_s=5)
        await task
        await _close(a, b)
        return second

    second = asyncio.run(main())
    assert second.state == "replay" and second.stored.body == b"done"


def test_abandon_lets_a_retry_run_and_a_lease_expires(replicas: Any) -> None:
    async def main() -> list[str]:
        a, b = replicas(lease_s=0.3)
        states = [(await a.begin("k", H)).state]
        await a.abandon("k")
        states.append((await b.begin("k", H, wait_s=0)).state)  # retry after failure
        states.append((await a.begin("k", H, wait_s=0)).state)  # b is still running it
        await asyncio.sleep(0.35)  # b died: its pending marker lapses
        states.append((await a.begin("k", H, wait_s=0)).state)
        await _close(a, b)
        return states

    assert asyncio.run(main()) == ["new", "new", "in_flight", "new"]


def test_completed_entries_expire_after_the_ttl(replicas: Any) -> None:
    async def main() -> list[str]:
        a, b = replicas(ttl_s=0.3)
        await a.begin("k", H)
        await a.complete("k", 200, {}, b"x")
        states = [(await b.begin("k", H)).state]
        await asyncio.sleep(0.4)
        states.append((await b.begin("k", H)).state)
        await _close(a, b)
        return states

    assert asyncio.run(main()) == ["replay", "new"]


def test_concurrent_begins_elect_exactly_one_runner(replicas: Any) -> None:
    async def main() -> list[str]:
        a, b = replicas()
        found = await asyncio.gather(*[(a if i % 2 else b).begin("race", H, wait_s=0)
                                       for i in range(20)])
        await _close(a, b)
        return [f.state for f in found]

    states = asyncio.run(main())
    assert states.count("new") == 1 and states.count("in_flight") == 19


def test_bad_keys_and_backend_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_idempotency_store(f"sqlite:///{tmp_path / 'x.db'}")
    assert isinstance(store, SqliteIdempotencyStore)
    with pytest.raises(ValueError):
        asyncio.run(store.begin("", H))
    with pytest.raises(ValueError):
        asyncio.run(store.begin("x" * 301, H))
    asyncio.run(store.close())
    monkeypatch.setenv("MODELROUTER_REDIS_URL", REDIS_URL)
    assert isinstance(open_idempotency_store(), RedisIdempotencyStore)
