"""AnthropicAdapter against httpx.MockTransport: translation, parsing, streaming."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from modelrouter.adapters.anthropic import JSON_INSTRUCTION, AnthropicAdapter
from modelrouter.adapters.base import ChatRequest, Endpoint, StreamChunk, ToolCall
from modelrouter.catalog.pricing import Usage
from modelrouter.errors import InternalServerError
from tests.adapter_helpers import WEATHER_TOOL, exchange

ENDPOINT = Endpoint("https://api.anthropic.com", api_key="sk-ant", provider="anthropic")
MODEL = "claude-sonnet-4-5"



def _exchange(
    request: ChatRequest, response: httpx.Response, *, stream: bool = False
) -> tuple[Any, httpx.Request]:
    return exchange(AnthropicAdapter, ENDPOINT, request, response, stream=stream)


def _message(content: list[dict[str, Any]], stop: str = "end_turn", **usage: Any) -> httpx.Response:
    body = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": content,
        "stop_reason": stop,
        "usage": usage or {"input_tokens": 10, "output_tokens": 3},
    }
    return httpx.Response(200, json=body, headers={"request-id": "req_ant"})


def test_plain_chat_request_and_response_with_cache_usage() -> None:
    request = ChatRequest(
        MODEL,
        [
            {"role": "system", "content": "Be brief."},
            {"role": "system", "content": "Answer in French."},
            {"role": "user", "content": "Hi"},
        ],
        temperature=0.5, stop=["END"], extra={"top_k": 5},
    )
    answer = _message(
        [{"type": "text", "text": "Bon"}, {"type": "text", "text": "jour"}],
        input_tokens=100, cache_read_input_tokens=2000, cache_creation_input_tokens=500,
        output_tokens=40,
    )
    response, sent = _exchange(request, answer)

    assert str(sent.url) == "https://api.anthropic.com/v1/messages"
    assert sent.headers["x-api-key"] == "sk-ant"
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.headers["content-type"] == "application/json"
    assert "authorization" not in sent.headers
    assert json.loads(sent.content) == {
        "model": MODEL,
        "max_tokens": 4096,  # required by Anthropic: defaulted
        "system": "Be brief.\n\nAnswer in French.",
        "messages": [{"role": "user", "content": "Hi"}],
        "temperature": 0.5,
        "stop_sequences": ["END"],
        "top_k": 5,
    }
    assert response.text == "Bonjour"
    assert response.finish_reason == "stop"
    assert response.usage == Usage(
        input_tokens=2600, output_tokens=40, cached_input_tokens=2000, cache_write_tokens=500
    )
    assert response.model == "claude-sonnet-4-5-20250929"
    assert response.request_id == "req_ant"


def test_tools_history_images_and_tool_use_response() -> None:
    messages = [
        {"role": "user", "content": [
            {"type": "text", "text": "Where is this? And the weather?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.jpg"}},
        ]},
        {"role": "assistant", "content": "Checking.", "tool_calls": [
            {"id": "toolu_1", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
            {"id": "toolu_2", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "Lyon"}'}},
        ]},
        {"role": "tool", "tool_call_id": "toolu_1", "content": "12C"},
        {"role": "tool", "tool_call_id": "toolu_2", "content": "14C"},
        {"role": "user", "content": "Thanks"},
    ]
    request = ChatRequest(
        MODEL, messages, max_tokens=256, tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    answer = _message(
        [
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "toolu_3", "name": "get_weather",
             "input": {"city": "Nice"}},
        ],
        stop="tool_use",
    )
    response, sent = _exchange(request, answer)

    assert json.loads(sent.content) == {
        "model": MODEL,
        "max_tokens": 256,
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "Where is this? And the weather?"},
                {"type": "image", "source": {
                    "type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo=",
                }},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/a.jpg"}},
            ]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather",
                 "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_weather",
                 "input": {"city": "Lyon"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "12C"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "14C"},
                {"type": "text", "text": "Thanks"},
            ]},
        ],
        "tools": [{
            "name": "get_weather",
            "description": "Weather for a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        }],
        "tool_choice": {"type": "tool", "name": "get_weather"},
    }
    assert response.finish_reason == "tool_calls"
    assert response.text == "Let me check."
    assert response.tool_calls == (ToolCall("toolu_3", "get_weather", '{"city": "Nice"}'),)


@pytest.mark.parametrize(
    ("choice", "expected"),
    [("auto", {"type": "auto"}), ("required", {"type": "any"}), ("none", {"type": "none"})],
)
def test_tool_choice_strings(choice: str, expected: dict[str, str]) -> None:
    request = ChatRequest(
        MODEL, [{"role": "user", "content": "x"}], tools=[WEATHER_TOOL], tool_choice=choice
    )
    _, sent = _exchange(request, _message([{"type": "text", "text": "ok"}]))
    assert json.loads(sent.content)["tool_choice"] == expected


def test_response_format_becomes_a_system_instruction() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    request = ChatRequest(
        MODEL,
        [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "x"}],
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
    )
    _, sent = _exchange(request, _message([{"type": "text", "text": '{"a": 1}'}]))
    body = json.loads(sent.content)
    assert "response_format" not in body
    assert body["system"] == (
        f"Be terse.\n\n{JSON_INSTRUCTION} It must conform to this JSON Schema: "
        + json.dumps(schema)
    )

    request = ChatRequest(
        MODEL, [{"role": "user", "content": "x"}], response_format={"type": "json_object"}
    )
    _, sent = _exchange(request, _message([{"type": "text", "text": "{}"}]))
    assert json.loads(sent.content)["system"] == JSON_INSTRUCTION


@pytest.mark.parametrize(
    ("stop", "finish"),
    [("max_tokens", "length"), ("stop_sequence", "stop"), ("refusal", "content_filter")],
)
def test_stop_reasons(stop: str, finish: str) -> None:
    request = ChatRequest(MODEL, [{"role": "user", "content": "x"}])
    response, _ = _exchange(request, _message([{"type": "text", "text": "a"}], stop=stop))
    assert response.finish_reason == finish


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


STREAM = "".join([
    _event("message_start", {"type": "message_start", "message": {
        "id": "msg_s", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [], "stop_reason": None,
        "usage": {"input_tokens": 25, "cache_read_input_tokens": 1000,
                  "cache_creation_input_tokens": 0, "output_tokens": 1},
    }}),
    _event("ping", {"type": "ping"}),
    _event("content_block_start", {"type": "content_block_start", "index": 0,
                                   "content_block": {"type": "text", "text": ""}}),
    _event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                   "delta": {"type": "text_delta", "text": "Let me "}}),
    _event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                   "delta": {"type": "text_delta", "text": "check."}}),
    _event("content_block_stop", {"type": "content_block_stop", "index": 0}),
    _event("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {
        "type": "tool_use", "id": "toolu_9", "name": "get_weather", "input": {}}}),
    _event("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {
        "type": "input_json_delta", "partial_json": ""}}),
    _event("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {
        "type": "input_json_delta", "partial_json": '{"city": "Pa'}}),
    _event("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {
        "type": "input_json_delta", "partial_json": 'ris"}'}}),
    _event("content_block_stop", {"type": "content_block_stop", "index": 1}),
    _event("message_delta", {"type": "message_delta",
                             "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                             "usage": {"output_tokens": 57}}),
    _event("message_stop", {"type": "message_stop"}),
])


def _sse(text: str) -> httpx.Response:
    return httpx.Response(
        200, headers={"content-type": "text/event-stream; charset=utf-8", "request-id": "req_s"},
        content=text.encode(),
    )


def test_stream_request_and_chunks() -> None:
    request = ChatRequest(MODEL, [{"role": "user", "content": "Weather?"}], tools=[WEATHER_TOOL])
    chunks, sent = _exchange(request, _sse(STREAM), stream=True)

    body = json.loads(sent.content)
    assert body["stream"] is True
    assert body["max_tokens"] == 4096
    common = {"model": "claude-sonnet-4-5", "request_id": "req_s"}
    assert chunks == [
        StreamChunk(text="Let me ", **common),
        StreamChunk(text="check.", **common),
        StreamChunk(
            tool_call_index=0, tool_call_id="toolu_9", tool_call_name="get_weather", **common
        ),
        StreamChunk(tool_call_index=0, tool_call_arguments='{"city": "Pa', **common),
        StreamChunk(tool_call_index=0, tool_call_arguments='ris"}', **common),
        StreamChunk(
            finish_reason="tool_calls",
            usage=Usage(input_tokens=1025, output_tokens=57, cached_input_tokens=1000),
            **common,
        ),
    ]


def test_stream_tool_call_without_input_gets_empty_object() -> None:
    text = "".join([
        _event("message_start", {"type": "message_start", "message": {
            "id": "m", "model": "claude", "usage": {"input_tokens": 5, "output_tokens": 1}}}),
        _event("content_block_start", {"type": "content_block_start", "index": 0,
                                       "content_block": {"type": "tool_use", "id": "t",
                                                         "name": "now", "input": {}}}),
        _event("content_block_stop", {"type": "content_block_stop", "index": 0}),
        _event("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"},
                                 "usage": {"output_tokens": 9}}),
        _event("message_stop", {"type": "message_stop"}),
    ])
    request = ChatRequest(MODEL, [{"role": "user", "content": "time?"}])
    chunks, _ = _exchange(request, _sse(text), stream=True)
    arguments = "".join(c.tool_call_arguments for c in chunks if c.tool_call_index == 0)
    assert arguments == "{}"
    assert chunks[-1].usage == Usage(input_tokens=5, output_tokens=9)


def test_stream_error_event_raises_our_error() -> None:
    text = STREAM.split("event: content_block_stop")[0] + _event(
        "error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    )
    request = ChatRequest(MODEL, [{"role": "user", "content": "x"}])
    with pytest.raises(InternalServerError) as caught:
        _exchange(request, _sse(text), stream=True)
    assert caught.value.status_code == 529
    assert "Overloaded" in str(caught.value)
    assert caught.value.retryable
    assert caught.value.request_id == "req_s"
