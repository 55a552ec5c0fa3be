"""OpenAICompatAdapter against httpx.MockTransport: exact requests, parsed answers, streams."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from modelrouter.adapters.base import ChatRequest, Endpoint, StreamChunk, ToolCall
from modelrouter.adapters.openai_compat import OpenAICompatAdapter
from modelrouter.catalog.pricing import Usage
from tests.adapter_helpers import WEATHER_TOOL, exchange

OPENAI = Endpoint("https://api.openai.com/v1", api_key="sk-test", provider="openai")
GROQ = Endpoint("https://api.groq.com/openai/v1/", api_key="gsk", provider="groq")
OLLAMA = Endpoint("http://127.0.0.1:11434/v1", provider="ollama")



def _exchange(
    endpoint: Endpoint, request: ChatRequest, response: httpx.Response, *, stream: bool = False
) -> tuple[Any, httpx.Request]:
    return exchange(OpenAICompatAdapter, endpoint, request, response, stream=stream)


def _completion(message: dict[str, Any], finish: str = "stop", **usage: Any) -> httpx.Response:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-5-mini-2025-08-07",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage or {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
    }
    return httpx.Response(200, json=body, headers={"x-request-id": "req_abc"})


def test_plain_chat_request_and_response() -> None:
    request = ChatRequest(
        "gpt-5-mini",
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        max_tokens=50, temperature=0.2, top_p=0.9, stop=["\n\n"],
        extra={"reasoning_effort": "low"},
    )
    answer = _completion(
        {"role": "assistant", "content": "Hello!"},
        prompt_tokens=1200, completion_tokens=300,
        prompt_tokens_details={"cached_tokens": 1024},
        completion_tokens_details={"reasoning_tokens": 256},
    )
    response, sent = _exchange(OPENAI, request, answer)

    assert sent.method == "POST"
    assert str(sent.url) == "https://api.openai.com/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert sent.headers["content-type"] == "application/json"
    assert json.loads(sent.content) == {
        "model": "gpt-5-mini",
        "messages": [
            {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
        ],
        "max_completion_tokens": 50,
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": ["\n\n"],
        "reasoning_effort": "low",
    }
    assert response.text == "Hello!"
    assert response.finish_reason == "stop"
    assert response.usage == Usage(
        input_tokens=1200, output_tokens=300, cached_input_tokens=1024, reasoning_tokens=256
    )
    assert response.model == "gpt-5-mini-2025-08-07"
    assert response.request_id == "req_abc"
    assert response.tool_calls == ()


def test_other_providers_send_max_tokens_and_ollama_sends_no_auth() -> None:
    request = ChatRequest("llama3.2", [{"role": "user", "content": "Hi"}], max_tokens=7)
    _, sent = _exchange(OLLAMA, request, _completion({"role": "assistant", "content": "ok"}))
    assert str(sent.url) == "http://127.0.0.1:11434/v1/chat/completions"
    assert "authorization" not in sent.headers
    assert json.loads(sent.content)["max_tokens"] == 7
    assert "max_completion_tokens" not in json.loads(sent.content)

    _, sent = _exchange(GROQ, request, _completion({"role": "assistant", "content": "ok"}))
    assert str(sent.url) == "https://api.groq.com/openai/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer gsk"


def test_tools_request_and_tool_call_response() -> None:
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_0", "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"Lyon"}'},
        }]},
        {"role": "tool", "tool_call_id": "call_0", "content": "12C"},
    ]
    request = ChatRequest("gpt-5", messages, tools=[WEATHER_TOOL], tool_choice="required")
    answer = _completion(
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
        }]},
        finish="tool_calls",
    )
    response, sent = _exchange(OPENAI, request, answer)

    body = json.loads(sent.content)
    assert body == {
        "model": "gpt-5", "messages": messages, "tools": [WEATHER_TOOL], "tool_choice": "required",
    }
    assert response.finish_reason == "tool_calls"
    assert response.text == ""
    assert response.tool_calls == (ToolCall("call_1", "get_weather", '{"city":"Paris"}'),)


@pytest.mark.parametrize(
    "response_format",
    [
        {"type": "json_object"},
        {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
    ],
)
def test_response_format_passes_through(response_format: dict[str, Any]) -> None:
    request = ChatRequest(
        "gpt-5", [{"role": "user", "content": "json"}], response_format=response_format
    )
    response, sent = _exchange(OPENAI, request, _completion({"role": "assistant", "content": "{}"}))
    assert json.loads(sent.content)["response_format"] == response_format
    assert response.text == "{}"


def test_length_and_content_filter_finish_reasons() -> None:
    request = ChatRequest("gpt-5", [{"role": "user", "content": "Hi"}])
    response, _ = _exchange(OPENAI, request, _completion({"content": "Hel"}, finish="length"))
    assert response.finish_reason == "length"
    response, _ = _exchange(OPENAI, request, _completion({"content": ""}, "content_filter"))
    assert response.finish_reason == "content_filter"


STREAM = (
    'data: {"id":"c1","model":"gpt-5","choices":[{"index":0,"delta":{"role":"assistant",'
    '"content":""},"finish_reason":null}]}\n\n'
    'data: {"id":"c1","model":"gpt-5","choices":[{"index":0,"delta":{"content":"Hel"},'
    '"finish_reason":null}]}\n\n'
    ': keep-alive comment\n\n'
    'data: {"id":"c1","model":"gpt-5","choices":[{"index":0,"delta":{"content":"lo"},'
    '"finish_reason":null}]}\n\n'
    'data: {"id":"c1","model":"gpt-5","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,'
    '"id":"call_9","type":"function","function":{"name":"get_weather","arguments":""}}]},'
    '"finish_reason":null}]}\n\n'
    'data: {"id":"c1","model":"gpt-5","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,'
    '"function":{"arguments":"{\\"city\\":"}}]},"finish_reason":null}]}\n\n'
    'data: {"id":"c1","model":"gpt-5","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,'
    '"function":{"arguments":"\\"Paris\\"}"}}]},"finish_reason":null}]}\n\n'
    'data: {"id":"c1","model":"gpt-5","choices":[{"index":0,"delta":{},'
    '"finish_reason":"tool_calls"}]}\n\n'
    'data: {"id":"c1","model":"gpt-5","choices":[],"usage":{"prompt_tokens":40,'
    '"completion_tokens":20,"prompt_tokens_details":{"cached_tokens":32},'
    '"completion_tokens_details":{"reasoning_tokens":8}}}\n\n'
    "data: [DONE]\n\n"
)


def _sse(text: str) -> httpx.Response:
    return httpx.Response(
        200, headers={"content-type": "text/event-stream", "x-request-id": "req_s"},
        content=text.encode(),
    )


def test_stream_request_and_chunks() -> None:
    request = ChatRequest("gpt-5", [{"role": "user", "content": "Hi"}], max_tokens=10)
    chunks, sent = _exchange(OPENAI, request, _sse(STREAM), stream=True)

    assert json.loads(sent.content) == {
        "model": "gpt-5",
        "messages": [{"role": "user", "content": "Hi"}],
        "max_completion_tokens": 10,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert sent.headers["accept"] == "text/event-stream"
    common = {"model": "gpt-5", "request_id": "req_s"}
    assert chunks == [
        StreamChunk(text="Hel", **common),
        StreamChunk(text="lo", **common),
        StreamChunk(
            tool_call_index=0, tool_call_id="call_9", tool_call_name="get_weather", **common
        ),
        StreamChunk(tool_call_index=0, tool_call_arguments='{"city":', **common),
        StreamChunk(tool_call_index=0, tool_call_arguments='"Paris"}', **common),
        StreamChunk(
            finish_reason="tool_calls",
            usage=Usage(
                input_tokens=40, output_tokens=20, cached_input_tokens=32, reasoning_tokens=8
            ),
            **common,
        ),
    ]


def test_stream_without_usage_ends_with_finish_and_no_usage() -> None:
    text = (
        'data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}\n\n'
        "data: [DONE]"  # last event without its blank line still counts
    )
    request = ChatRequest("llama3.2", [{"role": "user", "content": "Hi"}])
    chunks, _ = _exchange(OLLAMA, request, _sse(text), stream=True)
    assert [c.text for c in chunks] == ["ok", ""]
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage is None
