"""GeminiAdapter against httpx.MockTransport: translation, parsing, streaming."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from modelrouter.adapters.base import ChatRequest, Endpoint, StreamChunk, ToolCall
from modelrouter.adapters.gemini import GeminiAdapter
from modelrouter.catalog.pricing import Usage
from modelrouter.errors import ProviderConnectionError
from tests.adapter_helpers import WEATHER_TOOL, exchange

ENDPOINT = Endpoint("https://generativelanguage.googleapis.com", api_key="AIza", provider="google")
MODEL = "gemini-2.5-flash"



def _exchange(
    request: ChatRequest, response: httpx.Response, *, stream: bool = False
) -> tuple[Any, httpx.Request]:
    return exchange(GeminiAdapter, ENDPOINT, request, response, stream=stream)


def _answer(parts: list[dict[str, Any]], finish: str = "STOP", **usage: Any) -> httpx.Response:
    body = {
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish}],
        "usageMetadata": usage or {"promptTokenCount": 4, "candidatesTokenCount": 2},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "resp_1",
    }
    return httpx.Response(200, json=body)


def test_plain_chat_request_and_response_with_thoughts_and_cache() -> None:
    request = ChatRequest(
        MODEL,
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
         {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Bye"}],
        max_tokens=100, temperature=0.3, top_p=0.8, stop=["END"],
        extra={"generationConfig": {"topK": 20}, "safetySettings": []},
    )
    answer = _answer(
        [{"text": "thinking...", "thought": True}, {"text": "See "}, {"text": "you"}],
        promptTokenCount=3000, cachedContentTokenCount=2048, candidatesTokenCount=50,
        thoughtsTokenCount=120, totalTokenCount=3170,
    )
    response, sent = _exchange(request, answer)

    assert str(sent.url) == (
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    )
    assert sent.headers["x-goog-api-key"] == "AIza"
    assert "authorization" not in sent.headers
    assert json.loads(sent.content) == {
        "contents": [
            {"role": "user", "parts": [{"text": "Hi"}]},
            {"role": "model", "parts": [{"text": "Hello"}]},
            {"role": "user", "parts": [{"text": "Bye"}]},
        ],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "generationConfig": {
            "maxOutputTokens": 100, "temperature": 0.3, "topP": 0.8, "stopSequences": ["END"],
            "topK": 20,
        },
        "safetySettings": [],
    }
    assert response.text == "See you"
    assert response.finish_reason == "stop"
    assert response.usage == Usage(
        input_tokens=3000, output_tokens=170, cached_input_tokens=2048, reasoning_tokens=120
    )
    assert response.model == "gemini-2.5-flash"
    assert response.request_id == "resp_1"


def test_tools_history_and_function_call_response() -> None:
    messages = [
        {"role": "user", "content": "Weather in Paris and Lyon?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_a", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
            {"id": "call_b", "type": "function",
             "function": {"name": "get_time", "arguments": "{}"}},
        ]},
        {"role": "tool", "tool_call_id": "call_a", "content": "12C"},
        {"role": "tool", "tool_call_id": "call_b", "content": "noon"},
    ]
    request = ChatRequest(MODEL, messages, tools=[WEATHER_TOOL], tool_choice="required")
    answer = _answer([
        {"functionCall": {"name": "get_weather", "args": {"city": "Lyon"}}},
        {"functionCall": {"id": "fc_7", "name": "get_weather", "args": {"city": "Nice"}}},
    ])
    response, sent = _exchange(request, answer)

    assert json.loads(sent.content) == {
        "contents": [
            {"role": "user", "parts": [{"text": "Weather in Paris and Lyon?"}]},
            {"role": "model", "parts": [
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
                {"functionCall": {"name": "get_time", "args": {}}},
            ]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"result": "12C"}}},
                {"functionResponse": {"name": "get_time", "response": {"result": "noon"}}},
            ]},
        ],
        "tools": [{"functionDeclarations": [{
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        }]}],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY"}},
    }
    assert response.finish_reason == "tool_calls"
    assert response.tool_calls == (
        ToolCall("call_0", "get_weather", '{"city": "Lyon"}'),
        ToolCall("fc_7", "get_weather", '{"city": "Nice"}'),
    )


def test_response_format_json_schema_and_image() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    request = ChatRequest(
        MODEL,
        [{"role": "user", "content": [
            {"type": "text", "text": "Describe"},
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}},
        ]}],
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
    )
    _, sent = _exchange(request, _answer([{"text": '{"a": 1}'}]))
    body = json.loads(sent.content)
    assert body["contents"][0]["parts"] == [
        {"text": "Describe"}, {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/4AAQ"}},
    ]
    assert body["generationConfig"] == {
        "responseMimeType": "application/json", "responseJsonSchema": schema,
    }

    request = ChatRequest(
        MODEL, [{"role": "user", "content": "x"}], response_format={"type": "json_object"}
    )
    _, sent = _exchange(request, _answer([{"text": "{}"}]))
    assert json.loads(sent.content)["generationConfig"] == {"responseMimeType": "application/json"}


@pytest.mark.parametrize(
    ("finish", "expected"),
    [("MAX_TOKENS", "length"), ("SAFETY", "content_filter"), ("RECITATION", "content_filter"),
     ("PROHIBITED_CONTENT", "content_filter")],
)
def test_finish_reasons(finish: str, expected: str) -> None:
    request = ChatRequest(MODEL, [{"role": "user", "content": "x"}])
    response, _ = _exchange(request, _answer([{"text": "a"}], finish=finish))
    assert response.finish_reason == expected


def test_blocked_prompt_is_content_filter() -> None:
    body = {"promptFeedback": {"blockReason": "SAFETY"},
            "usageMetadata": {"promptTokenCount": 9}}
    request = ChatRequest(MODEL, [{"role": "user", "content": "x"}])
    response, _ = _exchange(request, httpx.Response(200, json=body))
    assert (response.text, response.finish_reason) == ("", "content_filter")
    assert response.usage == Usage(input_tokens=9)


def _sse(*events: dict[str, Any]) -> httpx.Response:
    text = "".join(f"data: {json.dumps(event)}\r\n\r\n" for event in events)
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=text.encode())


def _piece(parts: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}}
    if "finishReason" in extra:
        candidate["finishReason"] = extra.pop("finishReason")
    return {"candidates": [candidate], "modelVersion": "gemini-2.5-flash", "responseId": "r",
            **extra}


def test_stream_request_and_chunks() -> None:
    request = ChatRequest(MODEL, [{"role": "user", "content": "Hi"}], tools=[WEATHER_TOOL])
    response = _sse(
        _piece([{"text": "Hel"}], usageMetadata={"promptTokenCount": 8}),
        _piece([{"text": "lo"}]),
        _piece(
            [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}],
            finishReason="STOP",
            usageMetadata={"promptTokenCount": 8, "candidatesTokenCount": 6,
                           "thoughtsTokenCount": 30, "cachedContentTokenCount": 0},
        ),
    )
    chunks, sent = _exchange(request, response, stream=True)

    assert str(sent.url) == (
        "https://generativelanguage.googleapis.com/v1beta/models/"
        "gemini-2.5-flash:streamGenerateContent?alt=sse"
    )
    assert "stream" not in json.loads(sent.content)
    common = {"model": "gemini-2.5-flash", "request_id": "r"}
    assert chunks == [
        StreamChunk(text="Hel", **common),
        StreamChunk(text="lo", **common),
        StreamChunk(tool_call_index=0, tool_call_id="call_0", tool_call_name="get_weather",
                    tool_call_arguments='{"city": "Paris"}', **common),
        StreamChunk(finish_reason="tool_calls",
                    usage=Usage(input_tokens=8, output_tokens=36, reasoning_tokens=30), **common),
    ]


def test_stream_without_finish_reason_ended_early() -> None:
    request = ChatRequest(MODEL, [{"role": "user", "content": "Hi"}])
    with pytest.raises(ProviderConnectionError, match="stream ended early"):
        _exchange(request, _sse(_piece([{"text": "Hel"}])), stream=True)
