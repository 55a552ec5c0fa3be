"""The fake provider as a client sees it: real sockets on 127.0.0.1, httpx, no other network."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from modelrouter.testing import FakeProvider, Fault, count_tokens

USER = [{"role": "user", "content": "hello there general kenobi"}]
WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city", "days"],
}


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        yield server


@pytest.fixture
def client(fake: FakeProvider) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.base_url, timeout=5.0) as http:
        yield http


def openai_body(model: str = "gpt-x", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": USER, **extra}


def sse(response: httpx.Response) -> list[tuple[str | None, str]]:
    """(event name, data) pairs, stopping quietly where the server cut the stream."""
    events: list[tuple[str | None, str]] = []
    name: str | None = None
    try:
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, line[6:]))
                name = None
    except httpx.RemoteProtocolError:
        pass
    return events


def stream(client: httpx.Client, path: str, body: dict[str, Any]) -> list[tuple[str | None, str]]:
    with client.stream("POST", path, json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return sse(response)


def stream_text(events: list[tuple[str | None, str]]) -> str:
    """The text carried by a stream of any of the four formats."""
    text = ""
    for _, data in events:
        if data == "[DONE]":
            continue
        payload = json.loads(data)
        if payload.get("object") == "chat.completion.chunk" and payload["choices"]:
            text += payload["choices"][0]["delta"].get("content") or ""
        elif payload.get("type") == "content_block_delta":
            text += payload["delta"]["text"]
        elif payload.get("type") == "content-delta":
            text += payload["delta"]["message"]["content"]["text"]
        elif "candidates" in payload:
            text += payload["candidates"][0]["content"]["parts"][0]["text"]
    return text


# -- the four wire formats ------------------------------------------------------------------------


def test_openai_non_stream(client: httpx.Client, fake: FakeProvider) -> None:
    response = client.post("/v1/chat/completions", json=openai_body())
    assert response.status_code == 200
    assert response.headers["x-request-id"].startswith("req_")
    data = response.json()
    assert data["object"] == "chat.completion" and data["model"] == "gpt-x"
    assert isinstance(data["created"], int) and data["id"].startswith("chatcmpl-")
    choice = data["choices"][0]
    assert choice["message"] == {"role": "assistant", "refusal": None,
                                 "content": "[gpt-x] hello there general kenobi"}
    assert choice["finish_reason"] == "stop"
    usage = data["usage"]
    assert usage["prompt_tokens"] == count_tokens("hello there general kenobi")
    assert usage["completion_tokens"] == count_tokens(choice["message"]["content"])
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == 0
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 0
    # Deterministic: the same request gets the same text.
    again = client.post("/v1/chat/completions", json=openai_body()).json()
    assert again["choices"][0]["message"]["content"] == choice["message"]["content"]
    assert client.get("/v1/models").json()["data"][0]["id"] == "gpt-x"


def test_openai_stream_with_usage(client: httpx.Client) -> None:
    events = stream(client, "/v1/chat/completions",
                    openai_body(stream=True, stream_options={"include_usage": True}))
    assert events[-1] == (None, "[DONE]")
    chunks = [json.loads(data) for _, data in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "[gpt-x] hello there general kenobi"
    content_chunks = [c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]
    assert len(content_chunks) > 1
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == count_tokens(text)


def test_openai_stream_without_usage_has_no_usage_chunk(client: httpx.Client) -> None:
    events = stream(client, "/v1/chat/completions", openai_body(stream=True))
    chunks = [json.loads(data) for _, data in events[:-1]]
    assert all(c["choices"] for c in chunks) and "usage" not in chunks[-1]


def test_anthropic_non_stream_and_stream(client: httpx.Client) -> None:
    body = {"model": "claude-x", "max_tokens": 100, "system": "be brief", "messages": USER}
    response = client.post("/v1/messages", json=body)
    assert response.status_code == 200 and response.headers["request-id"]
    data = response.json()
    assert data["type"] == "message" and data["role"] == "assistant"
    assert data["content"] == [{"type": "text", "text": "[claude-x] hello there general kenobi"}]
    assert data["stop_reason"] == "end_turn"
    assert data["usage"]["input_tokens"] == count_tokens("be brief\nhello there general kenobi")
    assert data["usage"]["cache_read_input_tokens"] == 0
    assert data["usage"]["cache_creation_input_tokens"] == 0

    events = stream(client, "/v1/messages", {**body, "stream": True})
    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert names.count("ping") == 1 and "content_block_stop" in names
    payloads = [json.loads(data) for _, data in events]
    assert all(p["type"] == name for p, name in zip(payloads, names, strict=True))
    text = "".join(p["delta"]["text"] for p in payloads if p["type"] == "content_block_delta")
    assert text == data["content"][0]["text"]
    assert payloads[-2]["delta"]["stop_reason"] == "end_turn"
    assert payloads[-2]["usage"]["output_tokens"] == data["usage"]["output_tokens"]


def test_anthropic_requires_key_only_when_configured() -> None:
    body = {"model": "claude-x", "max_tokens": 10, "messages": USER}
    with FakeProvider(api_key="sk-test") as fake:
        url = f"{fake.base_url}/v1/messages"
        refused = httpx.post(url, json=body)
        assert refused.status_code == 401
        assert refused.json()["error"]["type"] == "authentication_error"
        assert httpx.post(url, json=body, headers={"x-api-key": "sk-test"}).status_code == 200
        openai = httpx.post(f"{fake.base_url}/v1/chat/completions", json=openai_body(),
                            headers={"authorization": "Bearer sk-test"})
        assert openai.status_code == 200


def test_anthropic_missing_max_tokens_is_a_400(client: httpx.Client) -> None:
    response = client.post("/v1/messages", json={"model": "claude-x", "messages": USER})
    assert response.status_code == 400
    assert response.json()["error"] == {"type": "invalid_request_error",
                                        "message": "max_tokens: Field required"}


def test_gemini_non_stream_and_stream(client: httpx.Client, fake: FakeProvider) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "hello there general kenobi"}]}]}
    data = client.post("/v1beta/models/gemini-x:generateContent", json=body).json()
    candidate = data["candidates"][0]
    assert candidate["content"] == {"role": "model",
                                    "parts": [{"text": "[gemini-x] hello there general kenobi"}]}
    assert candidate["finishReason"] == "STOP"
    meta = data["usageMetadata"]
    assert meta["totalTokenCount"] == meta["promptTokenCount"] + meta["candidatesTokenCount"]

    events = stream(client, "/v1beta/models/gemini-x:streamGenerateContent?alt=sse", body)
    chunks = [json.loads(data) for _, data in events]
    assert len(chunks) > 2
    assert all("usageMetadata" not in c for c in chunks[:-1])
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert chunks[-1]["usageMetadata"] == meta
    text = "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks)
    assert text == candidate["content"]["parts"][0]["text"]
    assert [r.model for r in fake.requests] == ["gemini-x", "gemini-x"]


def test_gemini_stream_without_sse_is_a_json_array(client: httpx.Client) -> None:
    body = {"contents": [{"parts": [{"text": "hi"}]}]}
    response = client.post("/v1beta/models/g:streamGenerateContent", json=body)
    chunks = response.json()
    assert isinstance(chunks, list) and chunks[-1]["candidates"][0]["finishReason"] == "STOP"


def test_unknown_path_is_an_openai_shaped_404(client: httpx.Client) -> None:
    response = client.post("/v1/completions", json={"model": "m"})
    assert response.status_code == 404 and "Unknown request URL" in response.json()["error"][
        "message"]


def test_cohere_non_stream_and_stream(client: httpx.Client) -> None:
    body = {"model": "command-x", "messages": USER}
    data = client.post("/v2/chat", json=body).json()
    assert data["finish_reason"] == "COMPLETE"
    assert data["message"] == {"role": "assistant", "content": [
        {"type": "text", "text": "[command-x] hello there general kenobi"}]}
    assert data["usage"]["billed_units"] == data["usage"]["tokens"]

    events = stream(client, "/v2/chat", {**body, "stream": True})
    names = [name for name, _ in events]
    assert names[:2] == ["message-start", "content-start"]
    assert names[-2:] == ["content-end", "message-end"]
    payloads = [json.loads(data) for _, data in events]
    text = "".join(p["delta"]["message"]["content"]["text"]
                   for p in payloads if p["type"] == "content-delta")
    assert text == data["message"]["content"][0]["text"]
    assert payloads[-1]["delta"] == {"finish_reason": "COMPLETE", "usage": data["usage"]}


# -- replies: tools, JSON, max_tokens, usage settings ---------------------------------------------


def test_tool_call_in_every_format(client: httpx.Client) -> None:
    ask = [{"role": "user", "content": "please call the weather tool"}]
    expected_args = {"city": "example", "days": 1}
    openai = client.post("/v1/chat/completions", json={"model": "m", "messages": ask, "tools": [
        {"type": "function", "function": {"name": "weather", "parameters": WEATHER_SCHEMA}}]})
    choice = openai.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    call = choice["message"]["tool_calls"][0]
    assert call["function"]["name"] == "weather"
    assert json.loads(call["function"]["arguments"]) == expected_args

    anthropic = client.post("/v1/messages", json={
        "model": "m", "max_tokens": 50, "messages": ask,
        "tools": [{"name": "weather", "input_schema": WEATHER_SCHEMA}]}).json()
    assert anthropic["stop_reason"] == "tool_use"
    assert anthropic["content"][0]["type"] == "tool_use"
    assert anthropic["content"][0]["input"] == expected_args

    gemini = client.post("/v1beta/models/m:generateContent", json={
        "contents": [{"role": "user", "parts": [{"text": "call it"}]}],
        "tools": [{"functionDeclarations": [{"name": "weather", "parameters": WEATHER_SCHEMA}]}],
    }).json()
    assert gemini["candidates"][0]["content"]["parts"] == [
        {"functionCall": {"name": "weather", "args": expected_args}}]

    cohere_body = {"model": "m", "messages": ask, "stream": True, "tools": [
        {"type": "function", "function": {"name": "weather", "parameters": WEATHER_SCHEMA}}]}
    events = stream(client, "/v2/chat", cohere_body)
    payloads = [json.loads(data) for _, data in events]
    assert "tool-call-start" in [p["type"] for p in payloads]
    arguments = "".join(p["delta"]["message"]["tool_calls"]["function"]["arguments"]
                        for p in payloads if p["type"] in ("tool-call-start", "tool-call-delta"))
    assert json.loads(arguments) == expected_args
    assert payloads[-1]["delta"]["finish_reason"] == "TOOL_CALL"


def test_openai_streamed_tool_call_and_answer_after_tool_result(client: httpx.Client) -> None:
    tools = [{"type": "function", "function": {"name": "weather", "parameters": WEATHER_SCHEMA}}]
    messages: list[dict[str, Any]] = [{"role": "user", "content": "call the tool"}]
    events = stream(client, "/v1/chat/completions",
                    {"model": "m", "messages": messages, "tools": tools, "stream": True})
    chunks = [json.loads(data) for _, data in events[:-1]]
    fragments = [c["choices"][0]["delta"]["tool_calls"][0] for c in chunks
                 if c["choices"][0]["delta"].get("tool_calls")]
    assert fragments[0]["function"]["name"] == "weather" and fragments[0]["id"]
    assert json.loads("".join(f["function"]["arguments"] for f in fragments)) == {
        "city": "example", "days": 1}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    # Once the tool answered, the model answers with text instead of calling again.
    messages += [
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": fragments[0]["id"], "type": "function",
            "function": {"name": "weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": fragments[0]["id"], "content": "sunny"},
    ]
    answer = client.post("/v1/chat/completions",
                         json={"model": "m", "messages": messages, "tools": tools}).json()
    assert answer["choices"][0]["finish_reason"] == "stop"


def test_always_tool_call_setting(client: httpx.Client, fake: FakeProvider) -> None:
    fake.configure("m", always_tool_call=True)
    tools = [{"type": "function", "function": {"name": "noop"}}]
    data = client.post("/v1/chat/completions", json=openai_body("m", tools=tools)).json()
    assert data["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == "{}"


def test_json_replies(client: httpx.Client, fake: FakeProvider) -> None:
    data = client.post("/v1/chat/completions", json=openai_body(
        response_format={"type": "json_object"})).json()
    assert json.loads(data["choices"][0]["message"]["content"]) == {
        "answer": "[gpt-x] hello there general kenobi"}
    schema = {"type": "json_schema", "json_schema": {"name": "w", "schema": WEATHER_SCHEMA}}
    data = client.post("/v1/chat/completions", json=openai_body(response_format=schema)).json()
    assert json.loads(data["choices"][0]["message"]["content"]) == {"city": "example", "days": 1}
    gemini = client.post("/v1beta/models/g:generateContent", json={
        "contents": [{"parts": [{"text": "hi"}]}],
        "generationConfig": {"responseMimeType": "application/json"}}).json()
    assert json.loads(gemini["candidates"][0]["content"]["parts"][0]["text"]) == {
        "answer": "[g] hi"}
    fake.configure("gpt-bad", reply='{"answer": ')
    bad = client.post("/v1/chat/completions", json=openai_body(
        "gpt-bad", response_format={"type": "json_object"})).json()
    assert bad["choices"][0]["message"]["content"] == '{"answer": '


def test_max_tokens_cuts_the_reply(client: httpx.Client) -> None:
    data = client.post("/v1/chat/completions", json=openai_body(max_tokens=3)).json()
    assert data["choices"][0]["finish_reason"] == "length"
    assert data["choices"][0]["message"]["content"] == "[gpt-x] hell"
    assert data["usage"]["completion_tokens"] == 3
    anthropic = client.post("/v1/messages", json={
        "model": "c", "max_tokens": 1, "messages": USER}).json()
    assert anthropic["stop_reason"] == "max_tokens"
    gemini = client.post("/v1beta/models/g:generateContent", json={
        "contents": [{"parts": [{"text": "a long question"}]}],
        "generationConfig": {"maxOutputTokens": 2}}).json()
    assert gemini["candidates"][0]["finishReason"] == "MAX_TOKENS"
    cohere = client.post("/v2/chat", json={"model": "c", "messages": USER, "max_tokens": 2})
    assert cohere.json()["finish_reason"] == "MAX_TOKENS"


def test_cached_and_reasoning_tokens(client: httpx.Client, fake: FakeProvider) -> None:
    long_prompt = [{"role": "user", "content": "x" * 6000}]  # 1500 tokens
    first = client.post("/v1/chat/completions", json={"model": "m", "messages": long_prompt})
    second = client.post("/v1/chat/completions", json={"model": "m", "messages": long_prompt})
    assert first.json()["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
    assert second.json()["usage"]["prompt_tokens_details"]["cached_tokens"] == 1024

    fake.configure("r", cached_tokens=4, reasoning_tokens=50)
    usage = client.post("/v1/chat/completions", json=openai_body("r")).json()["usage"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == 4
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 50
    assert usage["completion_tokens"] == 50 + count_tokens("[r] hello there general kenobi")
    gemini = client.post("/v1beta/models/r:generateContent",
                         json={"contents": [{"parts": [{"text": "hi"}]}]}).json()
    assert gemini["usageMetadata"]["thoughtsTokenCount"] == 50
    assert gemini["usageMetadata"]["cachedContentTokenCount"] == 1
    anthropic = client.post("/v1/messages", json={"model": "r", "max_tokens": 50,
                                                  "messages": USER}).json()["usage"]
    assert anthropic["cache_read_input_tokens"] == 4
    assert anthropic["input_tokens"] == count_tokens("hello there general kenobi") - 4


# -- faults ---------------------------------------------------------------------------------------


def test_rate_limit_headers_and_bodies(client: httpx.Client, fake: FakeProvider) -> None:
    fake.script("gpt-x", [Fault.rate_limit(retry_after=2, retry_after_ms=1500)])
    response = client.post("/v1/chat/completions", json=openai_body())
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.headers["retry-after-ms"] == "1500"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"

    fake.script("c", [Fault.rate_limit(retry_after=30, http_date=True)])
    before = time.time()
    response = client.post("/v1/messages", json={"model": "c", "max_tokens": 5, "messages": USER})
    assert response.status_code == 429
    assert response.json() == {"type": "error", "error": {
        "type": "rate_limit_error", "message": response.json()["error"]["message"]}}
    when = parsedate_to_datetime(response.headers["retry-after"]).timestamp()
    assert before + 29 <= when <= before + 32

    fake.script("g", [Fault.rate_limit()])
    gemini = client.post("/v1beta/models/g:generateContent",
                         json={"contents": [{"parts": [{"text": "hi"}]}]})
    assert gemini.status_code == 429 and "retry-after" not in gemini.headers
    assert gemini.json()["error"]["status"] == "RESOURCE_EXHAUSTED"


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors(client: httpx.Client, fake: FakeProvider, status: int) -> None:
    fake.script("*", [Fault.server_error(status)])
    response = client.post("/v2/chat", json={"model": "c", "messages": USER})
    assert response.status_code == status and "message" in response.json()


def test_generic_status_with_custom_body(client: httpx.Client, fake: FakeProvider) -> None:
    fake.script("gpt-x", [Fault.status(418, body={"teapot": True}, headers={"x-why": "tea"})])
    response = client.post("/v1/chat/completions", json=openai_body())
    assert response.status_code == 418
    assert response.json() == {"teapot": True} and response.headers["x-why"] == "tea"


def test_connection_reset(client: httpx.Client, fake: FakeProvider) -> None:
    fake.script("gpt-x", [Fault.connection_reset()])
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError)):
        client.post("/v1/chat/completions", json=openai_body())
    assert client.post("/v1/chat/completions", json=openai_body()).status_code == 200


def test_hang_times_out_the_client_fast(client: httpx.Client, fake: FakeProvider) -> None:
    fake.script("gpt-x", [Fault.hang(30)])
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.post("/v1/chat/completions", json=openai_body(), timeout=0.2)
    assert time.monotonic() - started < 1.0


def test_stop_returns_while_a_request_hangs() -> None:
    fake = FakeProvider().start()
    fake.always("*", Fault.hang(60))
    errors: list[BaseException] = []

    def call() -> None:
        try:
            httpx.post(f"{fake.base_url}/v1/chat/completions", json=openai_body(), timeout=10)
        except httpx.HTTPError as exc:
            errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 2
    while not fake.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 1.0
    caller.join(timeout=2)
    assert not caller.is_alive() and len(errors) == 1


@pytest.mark.parametrize("stream_it", [False, True])
def test_slow_first_token(client: httpx.Client, fake: FakeProvider, stream_it: bool) -> None:
    fake.script("gpt-x", [Fault.slow_first_token(0.3)])
    started = time.monotonic()
    with client.stream("POST", "/v1/chat/completions",
                       json=openai_body(stream=stream_it)) as response:
        assert response.status_code == 200
        assert time.monotonic() - started < 0.3  # headers come at once
        first = next(response.iter_bytes())
        assert first and time.monotonic() - started >= 0.3


@pytest.mark.parametrize(("path", "body", "terminal"), [
    ("/v1/chat/completions", {"model": "m", "messages": USER, "stream": True}, "[DONE]"),
    ("/v1/messages", {"model": "m", "max_tokens": 50, "messages": USER, "stream": True},
     "message_stop"),
    ("/v1beta/models/m:streamGenerateContent?alt=sse",
     {"contents": [{"parts": [{"text": "hello there general kenobi"}]}]}, "finishReason"),
    ("/v2/chat", {"model": "m", "messages": USER, "stream": True}, "message-end"),
])
def test_cut_stream(client: httpx.Client, fake: FakeProvider, path: str, body: dict[str, Any],
                    terminal: str) -> None:
    fake.script("m", [Fault.cut_stream(after_chunks=2)])
    with client.stream("POST", path, json=body) as response:
        events = sse(response)
    assert not any(terminal in data or terminal == name for name, data in events)
    assert stream_text(events) == "[m] hello"  # two content chunks
    # Uncut, the same request ends with its terminal event.
    full = stream(client, path, body)
    assert terminal in full[-1][1] or terminal == full[-1][0]
    assert stream_text(full) == "[m] hello there general kenobi"


def test_cut_non_stream_body(client: httpx.Client, fake: FakeProvider) -> None:
    fake.script("gpt-x", [Fault.cut_stream(after_chunks=1)])
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/v1/chat/completions", json=openai_body())


def test_short_hang_then_answers(client: httpx.Client, fake: FakeProvider) -> None:
    fake.script("gpt-x", [Fault.hang(0.1)])
    started = time.monotonic()
    assert client.post("/v1/chat/completions", json=openai_body()).status_code == 200
    assert time.monotonic() - started >= 0.1


def test_malformed_json(client: httpx.Client, fake: FakeProvider) -> None:
    fake.script("gpt-x", [Fault.malformed_json(), Fault.malformed_json()])
    response = client.post("/v1/chat/completions", json=openai_body())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        response.json()
    events = stream(client, "/v1/chat/completions", openai_body(stream=True))
    with pytest.raises(json.JSONDecodeError):
        for _, data in events[:-1]:
            json.loads(data)


def test_wrong_content_type(client: httpx.Client, fake: FakeProvider) -> None:
    fake.script("gpt-x", [Fault.wrong_content_type()])
    response = client.post("/v1/chat/completions", json=openai_body(stream=True))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<html>" in response.text


# -- scripting and inspection ---------------------------------------------------------------------


def test_script_is_consumed_in_order_then_normal(client: httpx.Client, fake: FakeProvider) -> None:
    fake.script("gpt-x", [Fault.rate_limit(retry_after=1), Fault.server_error(502), Fault.ok()])
    statuses = [client.post("/v1/chat/completions", json=openai_body()).status_code
                for _ in range(4)]
    assert statuses == [429, 502, 200, 200]
    # Other models are untouched.
    assert client.post("/v1/chat/completions", json=openai_body("gpt-z")).status_code == 200
    assert fake.calls("gpt-x") == 4 and fake.calls("gpt-z") == 1 and fake.calls() == 5


def test_always_and_script_precedence(client: httpx.Client, fake: FakeProvider) -> None:
    fake.always("gpt-y", Fault.server_error(503))
    fake.script("gpt-y", [Fault.ok()])
    statuses = [client.post("/v1/chat/completions", json=openai_body("gpt-y")).status_code
                for _ in range(3)]
    assert statuses == [200, 503, 503]
    fake.always("gpt-y", None)
    assert client.post("/v1/chat/completions", json=openai_body("gpt-y")).status_code == 200


def test_requests_are_recorded_and_reset(client: httpx.Client, fake: FakeProvider) -> None:
    client.post("/v1/chat/completions", json=openai_body(), headers={"X-Trace": "abc"})
    [recorded] = fake.requests
    assert (recorded.method, recorded.path, recorded.wire, recorded.model) == (
        "POST", "/v1/chat/completions", "openai", "gpt-x")
    assert recorded.headers["x-trace"] == "abc" and recorded.body == openai_body()
    fake.script("gpt-x", [Fault.server_error()])
    fake.reset()
    assert fake.requests == [] and fake.calls("gpt-x") == 0
    assert client.post("/v1/chat/completions", json=openai_body()).status_code == 200


def test_control_api(client: httpx.Client) -> None:
    scripted = client.post("/_fake/script", json={
        "model": "gpt-x", "faults": [{"kind": "rate_limit", "retry_after": 2}, {"kind": "ok"}]})
    assert scripted.json() == {"ok": True}
    client.post("/_fake/script", json={"model": "gpt-y", "faults": [
        {"kind": "status", "status": 409}], "always": True})
    client.post("/_fake/configure", json={"model": "gpt-z", "reply": "exact"})
    first = client.post("/v1/chat/completions", json=openai_body())
    assert (first.status_code, first.headers["retry-after"]) == (429, "2")
    assert client.post("/v1/chat/completions", json=openai_body()).status_code == 200
    for _ in range(2):
        assert client.post("/v1/chat/completions", json=openai_body("gpt-y")).status_code == 409
    z = client.post("/v1/chat/completions", json=openai_body("gpt-z")).json()
    assert z["choices"][0]["message"]["content"] == "exact"
    recorded = client.get("/_fake/requests").json()["requests"]
    assert [r["model"] for r in recorded] == ["gpt-x", "gpt-x", "gpt-y", "gpt-y", "gpt-z"]
    bad = client.post("/_fake/script", json={"model": "m", "faults": [{"kind": "explode"}]})
    assert bad.status_code == 400 and "explode" in bad.json()["error"]
    assert client.post("/_fake/reset").json() == {"ok": True}
    assert client.get("/_fake/requests").json() == {"requests": []}


def test_fault_dict_round_trip() -> None:
    for fault in [Fault.ok(), Fault.rate_limit(1.5, 1500, True), Fault.server_error(503),
                  Fault.status(418, body="no", headers={"a": "b"}), Fault.connection_reset(),
                  Fault.hang(2), Fault.slow_first_token(1), Fault.cut_stream(3),
                  Fault.malformed_json(), Fault.wrong_content_type()]:
        assert Fault.from_dict(fault.to_dict()) == fault
    with pytest.raises(ValueError, match="unknown fault field"):
        Fault.from_dict({"kind": "hang", "secs": 1})


def test_keep_alive_reuses_one_connection(client: httpx.Client, fake: FakeProvider) -> None:
    ports = set()
    for _ in range(3):
        with client.stream("POST", "/v1/chat/completions", json=openai_body()) as response:
            response.read()
            stream_ = response.extensions["network_stream"]
            ports.add(stream_.get_extra_info("client_addr")[1])
    assert len(ports) == 1


# -- the CLI command ------------------------------------------------------------------------------


def test_cli_command_serves_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "modelrouter.cli.fake_provider", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Fake provider listening on http://127.0.0.1:")
        base_url = first.split()[-1]
        endpoints = [process.stdout.readline().split() for _ in range(4)]
        assert [e[0] for e in endpoints] == ["openai", "anthropic", "gemini", "cohere"]
        assert endpoints[0][1] == f"{base_url}/v1/chat/completions"
        reply = httpx.post(f"{base_url}/v2/chat", json={"model": "c", "messages": USER},
                           timeout=5)
        assert reply.json()["finish_reason"] == "COMPLETE"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
