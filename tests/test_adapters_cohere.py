"""CohereAdapter against httpx.MockTransport: translation, parsing, streaming."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from modelrouter.adapters.base import ChatRequest, Endpoint, StreamChunk, ToolCall
from modelrouter.adapters.cohere import CohereAdapter
from modelrouter.catalog.pricing import Usage
from tests.adapter_helpers import WEATHER_TOOL, exchange

ENDPOINT = Endpoint("https://api.cohere.com", api_key="co-key", provider="cohere")
MODEL = "command-a-03-2025"

TIME_TOOL = {"type": "function", "function": {"name": "get_time", "parameters": {}}}


def _exchange(
    request: ChatRequest, response: httpx.Response, *, stream: bool = False
) -> tuple[Any, httpx.Request]:
    return exchange(CohereAdapter, ENDPOINT, request, response, stream=stream)


def _answer(message: dict[str, Any], finish: str = "COMPLETE", usage: Any = None) -> httpx.Response:
    body = {
        "id": "co_1",
        "finish_reason": finish,
        "message": {"role": "assistant", **message},
        "usage": usage if usage is not None else {
            "billed_units": {"input_tokens": 5, "output_tokens": 2},
            "tokens": {"input_tokens": 70, "output_tokens": 2},
        },
    }
    return httpx.Response(200, json=body)


def test_plain_chat_request_and_response() -> None:
    request = ChatRequest(
        MODEL, [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        max_tokens=64, temperature=0.3, top_p=0.75, stop=["END"], extra={"seed": 7},
    )
    response, sent = _exchange(request, _answer({"content": [{"type": "text", "text": "Hello"}]}))

    assert str(sent.url) == "https://api.cohere.com/v2/chat"
    assert sent.headers["authorization"] == "Bearer co-key"
    assert json.loads(sent.content) == {
        "model": MODEL,
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        "max_tokens": 64,
        "temperature": 0.3,
        "p": 0.75,
        "stop_sequences": ["END"],
        "seed": 7,
    }
    assert response.text == "Hello"
    assert response.finish_reason == "stop"
    assert response.usage == Usage(input_tokens=70, output_tokens=2)
    assert response.request_id == "co_1"


def test_usage_falls_back_to_billed_units() -> None:
    request = ChatRequest(MODEL, [{"role": "user", "content": "Hi"}])
    usage = {"billed_units": {"input_tokens": 5, "output_tokens": 9}}
    response, _ = _exchange(request, _answer({"content": []}, usage=usage))
    assert response.usage == Usage(input_tokens=5, output_tokens=9)


def test_tools_history_and_tool_call_response() -> None:
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "I will look it up.", "tool_calls": [
            {"id": "tc_1", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}},
        ]},
        {"role": "tool", "tool_call_id": "tc_1", "content": "12C"},
    ]
    request = ChatRequest(
        MODEL, messages, tools=[WEATHER_TOOL, TIME_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    answer = _answer(
        {"tool_plan": "Check Lyon.", "tool_calls": [{
            "id": "tc_2", "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"Lyon"}'},
        }]},
        finish="TOOL_CALL",
    )
    response, sent = _exchange(request, answer)

    assert json.loads(sent.content) == {
        "model": MODEL,
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "tool_plan": "I will look it up.", "tool_calls": [
                {"id": "tc_1", "type": "function",
                 "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}},
            ]},
            {"role": "tool", "tool_call_id": "tc_1", "content": "12C"},
        ],
        "tools": [WEATHER_TOOL],  # Cohere cannot name a tool: only the named one is offered
        "tool_choice": "REQUIRED",
    }
    assert response.finish_reason == "tool_calls"
    assert response.tool_calls == (ToolCall("tc_2", "get_weather", '{"city":"Lyon"}'),)


@pytest.mark.parametrize(
    ("response_format", "expected"),
    [
        ({"type": "json_object"}, {"type": "json_object"}),
        ({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
         {"type": "json_object", "json_schema": {"type": "object"}}),
    ],
)
def test_response_format(response_format: dict[str, Any], expected: dict[str, Any]) -> None:
    request = ChatRequest(
        MODEL, [{"role": "user", "content": "x"}], response_format=response_format,
        tools=[WEATHER_TOOL], tool_choice="none",
    )
    _, sent = _exchange(request, _answer({"content": [{"type": "text", "text": "{}"}]}))
    body = json.loads(sent.content)
    assert body["response_format"] == expected
    assert body["tool_choice"] == "NONE"


@pytest.mark.parametrize(
    ("finish", "expected"),
    [("MAX_TOKENS", "length"), ("STOP_SEQUENCE", "stop"), ("ERROR", "error")],
)
def test_finish_reasons(finish: str, expected: str) -> None:
    request = ChatRequest(MODEL, [{"role": "user", "content": "x"}])
    response, _ = _exchange(request, _answer({"content": []}, finish=finish))
    assert response.finish_reason == expected


def _event(data: dict[str, Any], *, named: bool = True) -> str:
    head = f"event: {data['type']}\n" if named else ""
    return f"{head}data: {json.dumps(data)}\n\n"


STREAM = "".join([
    _event({"id": "co_s", "type": "message-start",
            "delta": {"message": {"role": "assistant", "content": []}}}),
    _event({"type": "content-start", "index": 0,
            "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
    _event({"type": "content-delta", "index": 0,
            "delta": {"message": {"content": {"text": "Hel"}}}}),
    _event({"type": "content-delta", "index": 0,
            "delta": {"message": {"content": {"text": "lo"}}}}, named=False),
    _event({"type": "content-end", "index": 0}),
    _event({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "I will check"}}}),
    _event({"type": "tool-call-start", "index": 0, "delta": {"message": {"tool_calls": {
        "id": "tc_9", "type": "function",
        "function": {"name": "get_weather", "arguments": ""}}}}}),
    _event({"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {
        "function": {"arguments": '{"city":'}}}}}),
    _event({"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {
        "function": {"arguments": '"Paris"}'}}}}}),
    _event({"type": "tool-call-end", "index": 0}),
    _event({"type": "message-end", "delta": {"finish_reason": "TOOL_CALL", "usage": {
        "billed_units": {"input_tokens": 10, "output_tokens": 12},
        "tokens": {"input_tokens": 600, "output_tokens": 40}}}}),
])


def test_stream_request_and_chunks() -> None:
    request = ChatRequest(MODEL, [{"role": "user", "content": "Hi"}], tools=[WEATHER_TOOL])
    response = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=STREAM.encode()
    )
    chunks, sent = _exchange(request, response, stream=True)

    assert json.loads(sent.content)["stream"] is True
    assert sent.headers["accept"] == "text/event-stream"
    assert chunks == [
        StreamChunk(text="Hel", request_id="co_s"),
        StreamChunk(text="lo", request_id="co_s"),
        StreamChunk(tool_call_index=0, tool_call_id="tc_9", tool_call_name="get_weather",
                    request_id="co_s"),
        StreamChunk(tool_call_index=0, tool_call_arguments='{"city":', request_id="co_s"),
        StreamChunk(tool_call_index=0, tool_call_arguments='"Paris"}', request_id="co_s"),
        StreamChunk(finish_reason="tool_calls", usage=Usage(input_tokens=600, output_tokens=40),
                    request_id="co_s"),
    ]
