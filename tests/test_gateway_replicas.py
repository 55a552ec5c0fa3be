"""Four `modelrouter serve` replicas as OS processes sharing PostgreSQL (ledger, keys) and
Redis (budgets, rate limits, idempotency) behave as one gateway."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from modelrouter.testing import FakeProvider
from tests.gateway_fixtures import MASTER, live_gateway

PG_ADMIN = os.environ.get("MODELROUTER_TEST_POSTGRES_URL",
                          "postgresql://postgres@127.0.0.1:5432/test")
REDIS_DB_URL = "redis://127.0.0.1:6379/11"  # a database of its own, flushed around the test
BUDGET = Decimal("0.002")
RPM = 60


def _services() -> tuple[object, object]:
    try:
        import psycopg
        import redis

        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
        redis.Redis.from_url(REDIS_DB_URL, socket_timeout=3).ping()
        return psycopg, redis
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL and Redis are required in CI: {exc}")
        pytest.skip(f"PostgreSQL or Redis unreachable: {exc}")


@pytest.fixture
def shared_services() -> Iterator[dict[str, str]]:
    psycopg, redis = _services()
    name = f"mr_replicas_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:  # type: ignore[attr-defined]
        conn.execute(f'CREATE DATABASE "{name}"')
    client = redis.Redis.from_url(REDIS_DB_URL)  # type: ignore[attr-defined]
    client.flushdb()
    base = PG_ADMIN.rsplit("/", 1)[0]
    try:
        yield {"MODELROUTER_DATABASE_URL": f"{base}/{name}",
               "MODELROUTER_REDIS_URL": REDIS_DB_URL,
               "MODELROUTER_SECRET": "replica-secret-for-tests-0123456789"}
    finally:
        client.flushdb()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:  # type: ignore[attr-defined]
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_four_replicas_share_budget_limit_and_ledger(
    shared_services: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var, value in shared_services.items():
        monkeypatch.setenv(var, value)
    with FakeProvider() as fake, ExitStack() as stack:
        replicas = [stack.enter_context(live_gateway(fake, tmp_path / f"r{i}",
                                                     extra_env=shared_services))
                    for i in range(4)]
        admin = {"authorization": f"Bearer {MASTER}"}
        created = httpx.post(f"{replicas[0].url}/admin/keys", headers=admin, timeout=10,
                             json={"name": "shared", "budget_usd": str(BUDGET),
                                   "period": "month", "rpm": RPM}).json()
        key = created["key"]

        async def fire() -> list[httpx.Response]:
            async with httpx.AsyncClient(timeout=30) as client:
                body = {"model": "openai:gpt-5-nano",
                        "messages": [{"role": "user", "content": "spend a little " * 20}]}
                return list(await asyncio.gather(*(
                    client.post(f"{replicas[i % 4].url}/v1/chat/completions", json=body,
                                headers={"authorization": f"Bearer {key}"})
                    for i in range(200))))

        responses = asyncio.run(fire())
    statuses = [r.status_code for r in responses]
    ok = [r for r in responses if r.status_code == 200]
    assert set(statuses) <= {200, 429}, [r.text for r in responses if r.status_code >= 500][:3]
    assert 0 < len(ok) <= RPM  # the per-key RPM holds across the four replicas
    assert all(r.json()["error"]["message"] for r in responses if r.status_code == 429)

    from modelrouter.usage.budgets import open_budget_store
    from modelrouter.usage.ledger import open_ledger

    store = open_budget_store(REDIS_DB_URL)
    status = store.status(f"key:{created['id']}")
    store.close()
    assert status is not None
    one_reservation = max(Decimal(r.headers["x-modelrouter-cost-usd"]) for r in ok) * 4
    assert status.spent <= BUDGET + one_reservation
    with open_ledger(shared_services["MODELROUTER_DATABASE_URL"]) as ledger:
        rows = [r for r in ledger.records() if r.outcome == "success"]
    ids = [r.request_id for r in rows]
    assert sorted(ids) == sorted(r.headers["x-modelrouter-request-id"] for r in ok)
    assert len(ids) == len(set(ids))  # every request in the ledger exactly once
    assert fake.calls("gpt-5-nano") == len(ok)
