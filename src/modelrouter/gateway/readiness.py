"""``GET /ready``: can this replica reach its ledger database and, if configured, Redis?"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any


def _check_database() -> dict[str, Any]:
    from modelrouter.usage.ledger import open_ledger

    started = time.perf_counter()
    try:
        with open_ledger() as ledger:
            ledger.count()
    except Exception as exc:  # any failure means "not ready", with the reason
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 2)}


def _check_redis(url: str) -> dict[str, Any]:
    import redis

    started = time.perf_counter()
    try:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        client.ping()
        client.close()
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 2)}


async def check_ready() -> dict[str, dict[str, Any]]:
    checks = {"database": await asyncio.to_thread(_check_database)}
    url = os.environ.get("MODELROUTER_REDIS_URL")
    if url:
        checks["redis"] = await asyncio.to_thread(_check_redis, url)
    return checks
