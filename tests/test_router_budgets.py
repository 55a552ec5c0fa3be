"""Budgets, the ledger and alerts through the real router on loopback."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import pytest

from modelrouter.config import load_config
from modelrouter.errors import BudgetExceededError
from modelrouter.routing.records import MemorySink
from modelrouter.routing.router import Router
from modelrouter.testing import FakeProvider
from modelrouter.usage.alerts import AlertBook
from modelrouter.usage.budget_sqlite import SqliteBudgetStore
from modelrouter.usage.budgets import Budget
from tests.router_fixtures import KEYS, base_urls

PAID = "[tiers.fast]\nmodels = [\"openai:gpt-5-nano\"]\n"
HELLO = [{"role": "user", "content": "what does this cost?"}]


def build(fake: FakeProvider, tmp_path: Path, config: str = PAID, **kwargs: object
          ) -> tuple[Router, SqliteBudgetStore]:
    path = tmp_path / "modelrouter.toml"
    path.write_text(config, encoding="utf-8")
    store = SqliteBudgetStore(tmp_path / "budgets.db")
    router = Router(load_config(path, environ=KEYS), environ=KEYS, base_urls=base_urls(fake),
                    budgets=store, cache=None, **kwargs)  # type: ignore[arg-type]
    return router, store


def test_over_budget_fails_before_any_provider_call(fake: FakeProvider, tmp_path: Path) -> None:
    router, store = build(fake, tmp_path, sink=MemorySink(), alerts=None)
    store.set_budget(Budget("key:team-a", "month", Decimal("0.00001")))
    with pytest.raises(BudgetExceededError) as info:
        asyncio.run(router.chat(HELLO, tier="fast", key="team-a"))
    assert info.value.scope.startswith("key:team-a")
    assert info.value.limit == Decimal("0.00001")
    assert fake.calls() == 0
    assert info.value.http_status == 429


def test_paid_call_settles_its_actual_cost(fake: FakeProvider, tmp_path: Path) -> None:
    router, store = build(fake, tmp_path, sink=MemorySink(), alerts=None)
    store.set_budget(Budget("global", "month", Decimal("1")))

    async def go() -> Decimal:
        try:
            result = await router.chat(HELLO, tier="fast")
            assert result.cost is not None
            return result.cost.total
        finally:
            await router.aclose()

    cost = asyncio.run(go())
    status = store.status("global")
    assert status is not None
    assert status.spent == cost and status.reserved == 0


def test_concurrent_requests_never_overspend(fake: FakeProvider, tmp_path: Path) -> None:
    router, store = build(fake, tmp_path, sink=MemorySink(), alerts=None)
    limit = Decimal("0.0005")  # room for a handful of gpt-5-nano calls
    store.set_budget(Budget("global", "month", limit))

    async def one() -> bool:
        try:
            await router.chat(HELLO, tier="fast")
            return True
        except BudgetExceededError:
            return False

    async def many() -> list[bool]:
        try:
            return list(await asyncio.gather(*(one() for _ in range(40))))
        finally:
            await router.aclose()

    admitted = asyncio.run(many())
    status = store.status("global")
    assert status is not None
    assert 0 < sum(admitted) < 40
    assert status.spent <= limit
    assert fake.calls("gpt-5-nano") == sum(admitted)


def test_downgrade_to_a_free_model_when_configured(fake: FakeProvider, tmp_path: Path) -> None:
    config = (PAID + "[tiers.balanced]\nmodels = [\"openrouter:openai/gpt-oss-20b:free\"]\n"
              "[budget]\non_exceeded = \"downgrade\"\n")
    router, store = build(fake, tmp_path, config, sink=MemorySink(), alerts=None)
    store.set_budget(Budget("global", "month", Decimal("0.000001")))
    result = asyncio.run(router.chat(HELLO, tier="fast"))
    assert result.model == "openrouter:openai/gpt-oss-20b:free"
    assert fake.calls("gpt-5-nano") == 0


def test_default_sink_is_the_ledger_and_costly_requests_alert(
    fake: FakeProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELROUTER_DATABASE_URL", f"sqlite:///{tmp_path / 'usage.db'}")
    config = PAID + "[alerts]\ncost_per_request_warn_usd = \"0.000001\"\n"
    path = tmp_path / "modelrouter.toml"
    path.write_text(config, encoding="utf-8")
    loaded = load_config(path, environ=KEYS)
    book = AlertBook(tmp_path / "alerts.jsonl", loaded.alerts)
    router = Router(loaded, environ=KEYS, base_urls=base_urls(fake), budgets=None, cache=None,
                    alerts=book)
    result = asyncio.run(router.chat(HELLO, tier="fast"))
    from modelrouter.usage.ledger import open_ledger

    with open_ledger() as ledger:
        [row] = ledger.records()
    assert row.request_id == result.request_id and row.cost_usd == result.cost.total  # type: ignore[union-attr]
    [alert] = book.recent()
    assert alert.name == "cost_per_request" and "openai:gpt-5-nano" in alert.message
    assert json.loads((tmp_path / "alerts.jsonl").read_text().splitlines()[0])["severity"] == (
        "warning")


def test_streamed_downgrade_keeps_the_request_requirements(
    fake: FakeProvider, tmp_path: Path
) -> None:
    """Over budget, a streamed request with tools may only go to a free model that has them."""
    config = (PAID + "[tiers.balanced]\nmodels = ["
              "\"openrouter:meta-llama/llama-3.2-3b-instruct:free\", "
              "\"openrouter:openai/gpt-oss-20b:free\"]\n"
              "[budget]\non_exceeded = \"downgrade\"\n")
    router, store = build(fake, tmp_path, config, sink=MemorySink(), alerts=None)
    store.set_budget(Budget("global", "month", Decimal("0.000001")))
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]

    async def go() -> str | None:
        handle = router.stream(HELLO, tier="fast", tools=tools)
        async for _ in handle:
            pass
        return handle.model

    # llama-3.2-3b has no function calling; before the fix the replan forgot the tools.
    assert asyncio.run(go()) == "openrouter:openai/gpt-oss-20b:free"
