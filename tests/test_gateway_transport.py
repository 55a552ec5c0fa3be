"""The router's adapters over the gateway's upstream pool, through every wire format and the
faults that must keep their meaning (timeouts, resets, cut streams)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelrouter.config import load_config
from modelrouter.errors import ProviderConnectionError
from modelrouter.gateway.transport import PoolTransport, RawPoolClient
from modelrouter.gateway.upstream import UpstreamPool
from modelrouter.routing.records import MemorySink
from modelrouter.routing.router import Router
from modelrouter.testing import FakeProvider, Fault
from tests.router_fixtures import CONFIG, KEYS, base_urls

HELLO = [{"role": "user", "content": "Say hello over the pool"}]
FREE = "meta-llama/llama-3.3-70b-instruct:free"


@pytest.fixture(params=["httpx-transport", "raw-client"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def pooled_router(fake: FakeProvider, tmp_path: Path, kind: str = "raw-client"
                  ) -> tuple[Router, MemorySink]:
    path = tmp_path / "modelrouter.toml"
    path.write_text(CONFIG, encoding="utf-8")
    sink = MemorySink()
    client: Any = (httpx.AsyncClient(transport=PoolTransport(UpstreamPool()), timeout=None)
                   if kind == "httpx-transport" else RawPoolClient(UpstreamPool()))
    router = Router(load_config(path, environ=KEYS), environ=KEYS, sink=sink, client=client,
                    base_urls=base_urls(fake), budgets=None, cache=None, alerts=None)
    return router, sink


def test_every_wire_format_over_the_pool(fake: FakeProvider, tmp_path: Path, kind: str) -> None:
    router, _ = pooled_router(fake, tmp_path, kind)
    models = ("openai:gpt-5-nano", "google:gemini-2.5-flash-lite",
              "cohere:command-r7b-12-2024", "anthropic:claude-haiku-4-5")

    async def go() -> list[str]:
        texts = [(await router.chat(HELLO, model=m)).text for m in models]
        streamed = router.stream(HELLO, model="anthropic:claude-haiku-4-5")
        texts.append("".join([c.text async for c in streamed]))
        await router._client.aclose()  # type: ignore[union-attr]
        return texts

    texts = asyncio.run(go())
    assert all("Say hello over the pool" in t for t in texts)
    assert {r.wire for r in fake.requests} == {"openai", "gemini", "cohere", "anthropic"}


@pytest.mark.parametrize(
    ("fault", "error_class"),
    [(Fault.server_error(503), "InternalServerError"),
     (Fault.connection_reset(), "ProviderConnectionError"),
     (Fault.rate_limit(retry_after=600), "RateLimitError"),
     (Fault.malformed_json(), "ProviderError"),
     (Fault.wrong_content_type(), "ProviderError")],
)
def test_faults_keep_their_meaning_over_the_pool(
    fake: FakeProvider, tmp_path: Path, fault: Fault, error_class: str, kind: str
) -> None:
    router, sink = pooled_router(fake, tmp_path, kind)
    fake.always(FREE, fault)
    result = asyncio.run(router.chat(HELLO, tier="fast"))
    assert result.model != f"openrouter:{FREE}"
    assert sink.records[0].error_class == error_class


def test_cut_stream_over_the_pool_is_an_error(fake: FakeProvider, tmp_path: Path,
                                              kind: str) -> None:
    router, sink = pooled_router(fake, tmp_path, kind)
    fake.always(FREE, Fault.cut_stream(after_chunks=2))

    async def go() -> None:
        async for _ in router.stream(HELLO, tier="fast"):
            pass

    with pytest.raises(ProviderConnectionError):
        asyncio.run(go())
    assert [r.outcome for r in sink.records] == ["stream_cut"]
