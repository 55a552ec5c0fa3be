"""Per-key RPM/TPM limits: in-process buckets, and Redis shared by several OS processes.

Redis tests skip only when Redis is unreachable and CI is unset; in CI they fail.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelrouter.gateway.limits import LocalRateLimiter, RedisRateLimiter, open_rate_limiter

REDIS_URL = (os.environ.get("MODELROUTER_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0")
REPO = Path(__file__).resolve().parent.parent


def require_redis() -> Any:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {REDIS_URL} is required in CI: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({exc})")
    return client


@pytest.fixture
def prefix() -> Iterator[str]:
    client = require_redis()
    name = f"mrtest:limit:{uuid.uuid4().hex}:"
    yield name
    found = list(client.scan_iter(match=name + "*", count=1000))
    if found:
        client.delete(*found)
    client.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# --------------------------------------------------------------------------- in-process


def test_local_rpm_admits_the_limit_then_says_when() -> None:
    clock = Clock()
    limiter = LocalRateLimiter(clock=clock)

    async def main() -> list[tuple[bool, float]]:
        return [await limiter.acquire("k", 0, rpm=3, tpm=None) for _ in range(4)]

    results = run(main())
    assert [ok for ok, _ in results] == [True, True, True, False]
    assert results[3][1] == pytest.approx(20.0)  # one request refills in 60/3 s
    clock.now += 20
    assert run(limiter.acquire("k", 0, rpm=3, tpm=None)) == (True, 0.0)
    assert run(limiter.acquire("other", 0, rpm=3, tpm=None)) == (True, 0.0)


def test_local_tpm_refund_and_impossible_requests() -> None:
    limiter = LocalRateLimiter(clock=Clock())

    async def main() -> list[Any]:
        first = await limiter.acquire("k", 800, rpm=None, tpm=1000)
        refused = await limiter.acquire("k", 500, rpm=None, tpm=1000)
        await limiter.adjust("k", -400, tpm=1000)  # used 400 of the 800 estimated
        again = await limiter.acquire("k", 500, rpm=None, tpm=1000)
        never = await limiter.acquire("k", 1001, rpm=None, tpm=1000)
        unlimited = await limiter.acquire("k", 10**9, rpm=None, tpm=None)
        return [first, refused, again, never, unlimited]

    first, refused, again, never, unlimited = run(main())
    assert first == (True, 0.0) and refused[0] is False and refused[1] == pytest.approx(18.0)
    assert again == (True, 0.0)
    assert never == (False, math.inf) and unlimited == (True, 0.0)


def test_open_rate_limiter_picks_redis_only_when_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert isinstance(open_rate_limiter(), LocalRateLimiter)
    monkeypatch.setenv("MODELROUTER_REDIS_URL", "redis://127.0.0.1:1/0")
    assert isinstance(open_rate_limiter(), RedisRateLimiter)


# --------------------------------------------------------------------------- Redis


def test_redis_rpm_sliding_window(prefix: str) -> None:
    async def main() -> list[tuple[bool, float]]:
        limiter = RedisRateLimiter.from_url(REDIS_URL, key_prefix=prefix)
        try:
            return [await limiter.acquire("k", 0, rpm=3, tpm=None) for _ in range(4)]
        finally:
            await limiter.close()

    results = run(main())
    assert [ok for ok, _ in results] == [True, True, True, False]
    assert 59.0 < results[3][1] <= 60.0  # the first admission leaves the window in ~60 s


def test_redis_short_window_readmits(prefix: str) -> None:
    async def main() -> list[bool]:
        limiter = RedisRateLimiter.from_url(REDIS_URL, key_prefix=prefix, window_s=0.2)
        try:
            out = [(await limiter.acquire("k", 0, rpm=2, tpm=None))[0] for _ in range(3)]
            await asyncio.sleep(0.25)
            out.append((await limiter.acquire("k", 0, rpm=2, tpm=None))[0])
            return out
        finally:
            await limiter.close()

    assert run(main()) == [True, True, False, True]


def test_redis_tpm_bucket_adjust_and_impossible(prefix: str) -> None:
    async def main() -> list[Any]:
        limiter = RedisRateLimiter.from_url(REDIS_URL, key_prefix=prefix)
        try:
            first = await limiter.acquire("k", 800, rpm=10, tpm=1000)
            refused = await limiter.acquire("k", 500, rpm=10, tpm=1000)
            await limiter.adjust("k", -400, tpm=1000)
            again = await limiter.acquire("k", 500, rpm=10, tpm=1000)
            await limiter.adjust("k", 5000, tpm=1000)  # used far more: a debt
            indebted = await limiter.acquire("k", 1, rpm=10, tpm=1000)
            never = await limiter.acquire("k", 1001, rpm=10, tpm=1000)
            return [first, refused, again, indebted, never]
        finally:
            await limiter.close()

    first, refused, again, indebted, never = run(main())
    assert first == (True, 0.0)
    assert refused[0] is False and 17.0 < refused[1] <= 18.1
    assert again == (True, 0.0)
    assert indebted[0] is False and indebted[1] > 60
    assert never == (False, math.inf)


WORKER = r"""
import asyncio, json, sys
import redis
from modelrouter.gateway.limits import RedisRateLimiter

url, prefix, attempts = sys.argv[1], sys.argv[2], int(sys.argv[3])
control = redis.Redis.from_url(url)
control.incr(prefix + "ready")
if control.blpop([prefix + "go"], timeout=60) is None:
    sys.exit(1)

async def main():
    limiter = RedisRateLimiter.from_url(url, key_prefix=prefix)
    admitted = 0
    for _ in range(attempts):
        ok, _wait = await limiter.acquire("shared-key", 10, rpm=25, tpm=None)
        admitted += ok
    await limiter.close()
    return admitted

print(json.dumps({"admitted": asyncio.run(main())}))
"""


def test_four_processes_share_one_keys_limit_exactly(prefix: str) -> None:
    control = require_redis()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, REDIS_URL, prefix, "40"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        for _ in range(4)
    ]
    try:
        for _ in range(600):
            if int(control.get(prefix + "ready") or 0) == 4:
                break
            asyncio.run(asyncio.sleep(0.05))
        control.rpush(prefix + "go", *["go"] * 4)
        outputs = [proc.communicate(timeout=60) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
        control.close()
    admitted = [json.loads(out)["admitted"] for out, _err in outputs]
    assert sum(admitted) == 25, (admitted, [err for _, err in outputs])
