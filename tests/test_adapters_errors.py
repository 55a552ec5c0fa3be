"""Every adapter maps statuses, transport failures, timeouts and cut streams to our errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from modelrouter.adapters import _http
from modelrouter.adapters.anthropic import AnthropicAdapter
from modelrouter.adapters.base import Adapter, ChatRequest, Endpoint, StreamChunk, Timeouts
from modelrouter.adapters.cohere import CohereAdapter
from modelrouter.adapters.gemini import GeminiAdapter
from modelrouter.adapters.openai_compat import OpenAICompatAdapter
from modelrouter.errors import (
    AuthenticationError,
    InternalServerError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
)


@dataclass(frozen=True)
class Vendor:
    name: str
    adapter: Callable[[httpx.AsyncClient, Endpoint], Adapter]
    endpoint: Endpoint
    request_id_header: str
    error_body: dict[str, Any]  # the vendor's own 429 body, message "slow down"
    partial_stream: str  # some content, then the connection closes before the terminal event
    prelude: str  # what the vendor sends before the first content


def _anthropic_event(data: dict[str, Any]) -> str:
    return f"event: {data['type']}\ndata: {json.dumps(data)}\n\n"


VENDORS = [
    Vendor(
        "openai", OpenAICompatAdapter,
        Endpoint("https://api.openai.com/v1", "k", provider="openai"), "x-request-id",
        {"error": {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"}},
        'data: {"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n'
        'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
        'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n',
    ),
    Vendor(
        "anthropic", AnthropicAdapter,
        Endpoint("https://api.anthropic.com", "k", provider="anthropic"), "request-id",
        {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}},
        _anthropic_event({"type": "message_start", "message": {
            "id": "m", "model": "claude", "usage": {"input_tokens": 3, "output_tokens": 1}}})
        + _anthropic_event({"type": "content_block_start", "index": 0,
                            "content_block": {"type": "text", "text": ""}})
        + _anthropic_event({"type": "content_block_delta", "index": 0,
                            "delta": {"type": "text_delta", "text": "Hi"}}),
        _anthropic_event({"type": "message_start", "message": {
            "id": "m", "model": "claude", "usage": {"input_tokens": 3, "output_tokens": 1}}})
        + _anthropic_event({"type": "ping"})
        + _anthropic_event({"type": "content_block_start", "index": 0,
                            "content_block": {"type": "text", "text": ""}}),
    ),
    Vendor(
        "gemini", GeminiAdapter,
        Endpoint("https://generativelanguage.googleapis.com", "k", provider="google"),
        "x-request-id",
        {"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}},
        'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hi"}]}}]}\n\n',
        ": keep-alive\n\n",
    ),
    Vendor(
        "cohere", CohereAdapter, Endpoint("https://api.cohere.com", "k", provider="cohere"),
        "x-request-id",
        {"message": "slow down"},
        'event: message-start\ndata: {"type":"message-start","id":"c"}\n\n'
        'event: content-delta\ndata: {"type":"content-delta","index":0,'
        '"delta":{"message":{"content":{"text":"Hi"}}}}\n\n',
        'event: message-start\ndata: {"type":"message-start","id":"c"}\n\n'
        'event: content-start\ndata: {"type":"content-start","index":0,'
        '"delta":{"message":{"content":{"type":"text","text":""}}}}\n\n',
    ),
]

REQUEST = ChatRequest("some-model", [{"role": "user", "content": "Hi"}])
SSE = {"content-type": "text/event-stream"}


def _run(
    vendor: Vendor,
    handler: Callable[[httpx.Request], Any],
    *,
    stream: bool = False,
    timeouts: Timeouts | None = None,
) -> Any:
    async def go() -> Any:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            adapter = vendor.adapter(client, vendor.endpoint)
            if stream:
                return [c async for c in adapter.stream(REQUEST, timeouts or Timeouts())]
            return await adapter.send(REQUEST, timeouts or Timeouts())

    return asyncio.run(go())


def _raising(exc: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


def _answer(response: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: response


vendors = pytest.mark.parametrize("vendor", VENDORS, ids=[v.name for v in VENDORS])
both_modes = pytest.mark.parametrize("stream", [False, True], ids=["send", "stream"])


@vendors
@both_modes
def test_429_is_rate_limit_with_retry_after_and_vendor_message(
    vendor: Vendor, stream: bool
) -> None:
    response = httpx.Response(
        429, json=vendor.error_body, headers={"retry-after": "7", vendor.request_id_header: "r9"}
    )
    with pytest.raises(RateLimitError) as caught:
        _run(vendor, _answer(response), stream=stream)
    error = caught.value
    assert error.status_code == 429
    assert error.retry_after == 7.0
    assert error.retryable
    assert "slow down" in str(error)
    assert error.body == vendor.error_body
    assert error.request_id == "r9"
    assert error.provider == vendor.endpoint.provider
    assert error.model == "some-model"


@vendors
def test_retry_after_ms_wins(vendor: Vendor) -> None:
    response = httpx.Response(
        429, json=vendor.error_body, headers={"retry-after": "7", "retry-after-ms": "1500"}
    )
    with pytest.raises(RateLimitError) as caught:
        _run(vendor, _answer(response))
    assert caught.value.retry_after == 1.5


@vendors
@both_modes
def test_401_is_authentication_error(vendor: Vendor, stream: bool) -> None:
    response = httpx.Response(401, json={"error": {"message": "invalid api key"}})
    with pytest.raises(AuthenticationError, match="invalid api key") as caught:
        _run(vendor, _answer(response), stream=stream)
    assert not caught.value.retryable


@vendors
@pytest.mark.parametrize("status", [500, 503, 529])
def test_5xx_is_retryable_internal_server_error(vendor: Vendor, status: int) -> None:
    response = httpx.Response(status, text="<html>upstream down</html>")
    with pytest.raises(InternalServerError) as caught:
        _run(vendor, _answer(response))
    assert caught.value.status_code == status
    assert caught.value.retryable
    assert caught.value.body == "<html>upstream down</html>"


@vendors
def test_invalid_json_is_malformed_and_not_retryable(vendor: Vendor) -> None:
    response = httpx.Response(
        200, content=b'{"choices": [', headers={"content-type": "application/json"}
    )
    with pytest.raises(ProviderError, match="malformed") as caught:
        _run(vendor, _answer(response))
    assert type(caught.value) is ProviderError
    assert not caught.value.retryable
    assert caught.value.body == '{"choices": ['


@vendors
def test_unexpected_shape_is_malformed(vendor: Vendor) -> None:
    response = httpx.Response(200, json={"unexpected": True, "message": 3})
    with pytest.raises(ProviderError, match="malformed") as caught:
        _run(vendor, _answer(response))
    assert type(caught.value) is ProviderError


@vendors
@both_modes
def test_wrong_content_type_is_malformed(vendor: Vendor, stream: bool) -> None:
    response = httpx.Response(200, text="<html>captive portal</html>",
                              headers={"content-type": "text/html"})
    with pytest.raises(ProviderError, match="content type 'text/html'") as caught:
        _run(vendor, _answer(response), stream=stream)
    assert type(caught.value) is ProviderError


@vendors
@both_modes
@pytest.mark.parametrize(
    ("exc", "kind"),
    [(httpx.ConnectTimeout("connect"), "connect"), (httpx.ReadTimeout("read"), "first_token")],
)
def test_httpx_timeouts(vendor: Vendor, stream: bool, exc: Exception, kind: str) -> None:
    with pytest.raises(ProviderTimeoutError) as caught:
        _run(vendor, _raising(exc), stream=stream)
    assert caught.value.kind == kind
    assert caught.value.retryable


@vendors
@both_modes
@pytest.mark.parametrize(
    "exc", [httpx.ConnectError("refused"), httpx.RemoteProtocolError("peer closed")]
)
def test_connection_failures(vendor: Vendor, stream: bool, exc: Exception) -> None:
    with pytest.raises(ProviderConnectionError) as caught:
        _run(vendor, _raising(exc), stream=stream)
    assert not isinstance(caught.value, ProviderTimeoutError)
    assert caught.value.retryable


@vendors
def test_total_timeout_on_send(vendor: Vendor) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, json={})

    with pytest.raises(ProviderTimeoutError) as caught:
        _run(vendor, slow, timeouts=Timeouts(total_s=0.05))
    assert caught.value.kind == "total"


@vendors
def test_stream_cut_before_terminal_event_is_a_connection_error(vendor: Vendor) -> None:
    response = httpx.Response(200, headers=SSE, content=vendor.partial_stream.encode())
    with pytest.raises(ProviderConnectionError, match="stream ended early") as caught:
        _run(vendor, _answer(response), stream=True)
    assert caught.value.retryable


@vendors
def test_stream_cut_mid_line_is_a_connection_error(vendor: Vendor) -> None:
    body = vendor.partial_stream + 'data: {"type": "content-del'
    response = httpx.Response(200, headers=SSE, content=body.encode())
    with pytest.raises(ProviderConnectionError, match="stream ended early"):
        _run(vendor, _answer(response), stream=True)


def _body(
    *pieces: str, pause_after: int | None = None, then: BaseException | None = None
) -> AsyncIterator[bytes]:
    async def content() -> AsyncIterator[bytes]:
        for n, piece in enumerate(pieces):
            yield piece.encode()
            if n == pause_after:
                await asyncio.sleep(5)
        if then is not None:
            raise then

    return content()


@vendors
def test_connection_reset_mid_stream_after_content(vendor: Vendor) -> None:
    received: list[StreamChunk] = []

    async def go() -> None:
        response = httpx.Response(
            200, headers=SSE,
            content=_body(vendor.partial_stream, then=httpx.ReadError("connection reset")),
        )
        async with httpx.AsyncClient(transport=httpx.MockTransport(_answer(response))) as client:
            async for chunk in vendor.adapter(client, vendor.endpoint).stream(REQUEST, Timeouts()):
                received.append(chunk)

    with pytest.raises(ProviderConnectionError, match="ReadError"):
        asyncio.run(go())
    assert "".join(chunk.text for chunk in received) == "Hi"


@vendors
def test_first_token_timeout_counts_content_not_bytes(vendor: Vendor) -> None:
    # Everything before the first content (message_start, pings) arrives at once, then silence.
    response = httpx.Response(200, headers=SSE, content=_body(vendor.prelude, pause_after=0))
    with pytest.raises(ProviderTimeoutError) as caught:
        _run(vendor, _answer(response), stream=True,
             timeouts=Timeouts(first_token_s=0.05, total_s=5))
    assert caught.value.kind == "first_token"


@vendors
def test_total_timeout_after_first_token(vendor: Vendor) -> None:
    response = httpx.Response(200, headers=SSE, content=_body(vendor.partial_stream,
                                                               pause_after=0))
    with pytest.raises(ProviderTimeoutError) as caught:
        _run(vendor, _answer(response), stream=True,
             timeouts=Timeouts(first_token_s=0.05, total_s=0.2))
    assert caught.value.kind == "total"


@vendors
def test_invalid_json_event_is_malformed(vendor: Vendor) -> None:
    response = httpx.Response(200, headers=SSE, content=b"data: {not json}\n\n")
    with pytest.raises(ProviderError, match="malformed") as caught:
        _run(vendor, _answer(response), stream=True)
    assert type(caught.value) is ProviderError


@vendors
def test_closing_a_stream_early_closes_the_response(vendor: Vendor) -> None:
    closed: list[bool] = []

    async def content() -> AsyncIterator[bytes]:
        try:
            yield vendor.partial_stream.encode()
            await asyncio.sleep(5)
        finally:
            closed.append(True)

    async def go() -> str:
        response = httpx.Response(200, headers=SSE, content=content())
        async with httpx.AsyncClient(transport=httpx.MockTransport(_answer(response))) as client:
            chunks = vendor.adapter(client, vendor.endpoint).stream(REQUEST, Timeouts())
            first = await anext(chunks)
            await chunks.aclose()  # type: ignore[attr-defined]
            return first.text

    assert asyncio.run(go()) == "Hi"
    assert closed == [True]


# ------------------------------------------------------------------ pure helpers


def test_sse_decoder_follows_the_spec() -> None:
    decoder = _http.SSEDecoder()
    lines = [": comment", "event: delta", "data: {\"a\":", "data:1}", "", "", "data: [DONE]", ""]
    events = [e for line in lines if (e := decoder.feed(line)) is not None]
    assert events == [_http.SSEEvent("delta", '{"a":\n1}'), _http.SSEEvent("", "[DONE]")]
    assert decoder.flush() is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"error": {"message": "bad key", "type": "invalid_request_error"}},
         "bad key (invalid_request_error)"),
        ({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
         "Overloaded (overloaded_error)"),
        ([{"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}}],
         "bad (INVALID_ARGUMENT)"),
        ({"message": "invalid request"}, "invalid request"),
        ("plain text", "plain text"),
        ({"nothing": 1}, None),
    ],
)
def test_vendor_message(body: Any, message: str | None) -> None:
    assert _http.vendor_message(body) == message


def test_usage_is_clamped_to_our_invariants() -> None:
    usage = _http.usage(10, 5, cached=30, cache_write=4, reasoning=9)
    assert (usage.input_tokens, usage.cached_input_tokens, usage.cache_write_tokens) == (10, 10, 0)
    assert (usage.output_tokens, usage.reasoning_tokens) == (9, 9)
    assert _http.usage(None, "x", cached=-3).input_tokens == 0


def test_httpx_timeout_from_timeouts() -> None:
    timeouts = Timeouts(connect_s=2, first_token_s=10, total_s=60)
    assert _http.httpx_timeout(timeouts, streaming=True) == httpx.Timeout(
        connect=2, read=10, write=10, pool=2
    )
    assert _http.httpx_timeout(timeouts, streaming=False).read == 60
