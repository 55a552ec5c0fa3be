"""The response cache inside the router: hits skip the provider, are recorded at cost 0 with
the saving, replay as streams, and errors are never cached."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from pathlib import Path
from typing import Any

from modelrouter.cache.backends import MemoryBackend
from modelrouter.cache.store import ResponseCache
from modelrouter.config import load_config
from modelrouter.errors import AllProvidersFailedError
from modelrouter.routing.records import MemorySink
from modelrouter.routing.router import Router
from modelrouter.testing import FakeProvider, Fault
from tests.router_fixtures import KEYS, base_urls

CONFIG = (
    '[tiers.fast]\nmodels = ["openai:gpt-5-nano"]\ntemperature = 0.0\n'
    "[retry]\nmax_retries = 0\n"
)
HELLO = [{"role": "user", "content": "cache me if you can"}]


def router_for(fake: FakeProvider, tmp_path: Path) -> tuple[Router, MemorySink]:
    path = tmp_path / "modelrouter.toml"
    path.write_text(CONFIG, encoding="utf-8")
    sink = MemorySink()
    cache = ResponseCache(MemoryBackend())
    router = Router(load_config(path, environ=KEYS), environ=KEYS, sink=sink,
                    base_urls=base_urls(fake), cache=cache)
    return router, sink


def test_second_identical_request_is_a_cache_hit(fake: FakeProvider, tmp_path: Path) -> None:
    router, sink = router_for(fake, tmp_path)

    async def go() -> list[Any]:
        try:
            return [await router.chat(HELLO, tier="fast") for _ in range(2)]
        finally:
            await router.aclose()

    first, second = asyncio.run(go())
    assert fake.calls("gpt-5-nano") == 1
    assert second.text == first.text and second.model == first.model
    assert second.cost is not None and second.cost.total == Decimal(0)
    hit = sink.records[-1]
    assert hit.cache_hit and hit.cost_usd == Decimal(0)
    assert hit.saved_usd == first.cost.total  # type: ignore[union-attr]
    assert router.cache is not None and router.cache.stats()["default"].hits == 1


def test_cached_answer_replays_as_a_stream(fake: FakeProvider, tmp_path: Path) -> None:
    router, sink = router_for(fake, tmp_path)

    async def go() -> tuple[str, list[str], Any]:
        try:
            first = await router.chat(HELLO, tier="fast")
            handle = router.stream(HELLO, tier="fast")
            pieces = [chunk.text async for chunk in handle]
            return first.text, pieces, handle
        finally:
            await router.aclose()

    text, pieces, handle = asyncio.run(go())
    assert "".join(pieces) == text and len(pieces) > 1
    assert handle.cache_hit and handle.completed
    assert fake.calls("gpt-5-nano") == 1
    assert sink.records[-1].cache_hit and sink.records[-1].streamed


def test_errors_and_sampling_requests_are_not_cached(fake: FakeProvider, tmp_path: Path) -> None:
    router, _ = router_for(fake, tmp_path)
    fake.script("gpt-5-nano", [Fault.server_error(500)])

    async def go() -> None:
        try:
            with contextlib.suppress(AllProvidersFailedError):  # fails on purpose
                await router.chat(HELLO, tier="fast")
            await router.chat(HELLO, tier="fast")  # must reach the provider again
            await router.chat(HELLO, tier="fast", temperature=0.9)  # sampling: not cached
            await router.chat(HELLO, tier="fast", temperature=0.9)
        finally:
            await router.aclose()

    asyncio.run(go())
    assert fake.calls("gpt-5-nano") == 4
