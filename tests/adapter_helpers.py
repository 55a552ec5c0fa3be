"""One MockTransport round trip through an adapter: the request it sent and what it returned."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from modelrouter.adapters.base import Adapter, ChatRequest, Endpoint, Timeouts

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def exchange(
    make: Callable[[httpx.AsyncClient, Endpoint], Adapter], endpoint: Endpoint,
    request: ChatRequest, response: httpx.Response, *, stream: bool = False,
) -> tuple[Any, httpx.Request]:
    seen: list[httpx.Request] = []

    def handler(sent: httpx.Request) -> httpx.Response:
        seen.append(sent)
        return response

    async def go() -> Any:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            adapter = make(client, endpoint)
            if stream:
                return [chunk async for chunk in adapter.stream(request, Timeouts())]
            return await adapter.send(request, Timeouts())

    result = asyncio.run(go())
    return result, seen[0]
