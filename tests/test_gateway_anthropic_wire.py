"""The Anthropic Messages wire of the gateway: parsing, Message rendering, events, errors."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelrouter import errors as err
from modelrouter.adapters.base import Response, StreamChunk, ToolCall
from modelrouter.catalog.pricing import Usage
from modelrouter.gateway.anthropic_wire import (
    AnthropicSSEEncoder,
    anthropic_usage,
    parse_messages_request,
    render_error,
    render_message,
)
from modelrouter.gateway.openai_wire import ChatCall, WireError
from modelrouter.routing.router import RouterResult

USER = [{"role": "user", "content": "hi"}]


def body(**fields: Any) -> bytes:
    return json.dumps({"model": "claude-x", "max_tokens": 100, "messages": USER,
                       **fields}).encode()


def result(response: Response) -> RouterResult:
    return RouterResult(response=response, model="anthropic:claude-x", provider="anthropic",
                        tier="fast", request_id="req_1", fallback_depth=0, cost=None,
                        latency_s=0.1)


MALFORMED: list[tuple[str, bytes, int, str]] = [
    ("invalid utf-8", b'{"model": "\xc3\x28"}', 400, "invalid_request_error"),
    ("not json", b"{", 400, "invalid_request_error"),
    ("not an object", b"[]", 400, "invalid_request_error"),
    ("missing model", json.dumps({"max_tokens": 1, "messages": USER}).encode(), 400,
     "invalid_request_error"),
    ("missing max_tokens", json.dumps({"model": "m", "messages": USER}).encode(), 400,
     "invalid_request_error"),
    ("max_tokens a string", body(max_tokens="10"), 400, "invalid_request_error"),
    ("no messages", body(messages=[]), 400, "invalid_request_error"),
    ("system role in messages", body(messages=[{"role": "system", "content": "x"}]), 400,
     "invalid_request_error"),
    ("system a number", body(system=3), 400, "invalid_request_error"),
    ("system an image block", body(system=[{"type": "image"}]), 400, "invalid_request_error"),
    ("content a number", body(messages=[{"role": "user", "content": 1}]), 400,
     "invalid_request_error"),
    ("block without type", body(messages=[{"role": "user", "content": [{"text": "x"}]}]), 400,
     "invalid_request_error"),
    ("image without source", body(messages=[{"role": "user", "content": [
        {"type": "image"}]}]), 400, "invalid_request_error"),
    ("image of a file source", body(messages=[{"role": "user", "content": [
        {"type": "image", "source": {"type": "file", "file_id": "f"}}]}]), 400,
     "invalid_request_error"),
    ("tool_use from the user", body(messages=[{"role": "user", "content": [
        {"type": "tool_use", "id": "t", "name": "f", "input": {}}]}]), 400,
     "invalid_request_error"),
    ("tool_result from the assistant", body(messages=[{"role": "assistant", "content": [
        {"type": "tool_result", "tool_use_id": "t"}]}]), 400, "invalid_request_error"),
    ("tool_use input a list", body(messages=[{"role": "assistant", "content": [
        {"type": "tool_use", "id": "t", "name": "f", "input": []}]}]), 400,
     "invalid_request_error"),
    ("tool without input_schema", body(tools=[{"name": "f"}]), 400, "invalid_request_error"),
    ("tool_choice a string", body(tool_choice="auto"), 400, "invalid_request_error"),
    ("tool_choice tool without name", body(tool_choice={"type": "tool"}), 400,
     "invalid_request_error"),
    ("temperature above 1", body(temperature=1.5), 400, "invalid_request_error"),
    ("stop_sequences a number", body(stop_sequences=5), 400, "invalid_request_error"),
    ("metadata user_id a number", body(metadata={"user_id": 5}), 400,
     "invalid_request_error"),
    ("too many messages", body(messages=USER * 11), 413, "request_too_large"),
]


@pytest.mark.parametrize(("case", "raw", "status", "kind"), MALFORMED,
                         ids=[case[0] for case in MALFORMED])
def test_malformed_bodies_are_4xx_with_an_anthropic_body(
    case: str, raw: bytes, status: int, kind: str
) -> None:
    with pytest.raises(WireError) as caught:
        parse_messages_request(raw, max_messages=10)
    code, headers, rendered = render_error(caught.value)
    assert code == status and headers == {}
    payload = json.loads(rendered)
    assert payload["type"] == "error"
    assert payload["error"]["type"] == kind and payload["error"]["message"]


def test_a_full_request_becomes_openai_shaped_messages() -> None:
    call = parse_messages_request(body(
        system=[{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
        messages=[
            {"role": "user", "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                             "data": "AAAA"}},
                {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}},
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "s"},
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "toolu_1", "name": "look", "input": {"x": 1}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "a cat"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": True,
                 "content": [{"type": "text", "text": "boom"}]},
                {"type": "text", "text": "and now?"},
            ]},
            {"role": "assistant", "content": "ok"},
        ],
        tools=[{"name": "look", "description": "looks", "input_schema": {"type": "object"}},
               {"type": "web_search_20250305", "name": "web_search"}],
        tool_choice={"type": "tool", "name": "look"}, stop_sequences=["END"], temperature=0.2,
        top_p=0.9, top_k=5, stream=True, metadata={"user_id": "u-1"},
        thinking={"type": "enabled", "budget_tokens": 1024},
    ))
    assert call == ChatCall(
        model="claude-x", stream=True, include_usage=True, user="u-1",
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
            ]},
            {"role": "assistant", "content": "Let me look.", "tool_calls": [
                {"id": "toolu_1", "type": "function",
                 "function": {"name": "look", "arguments": '{"x": 1}'}}]},
            {"role": "tool", "tool_call_id": "toolu_1", "content": "a cat"},
            {"role": "tool", "tool_call_id": "toolu_2", "content": "Error: boom"},
            {"role": "user", "content": "and now?"},
            {"role": "assistant", "content": "ok"},
        ],
        options={
            "max_tokens": 100, "temperature": 0.2, "stop": ["END"],
            "tools": [{"type": "function", "function": {
                          "name": "look", "description": "looks",
                          "parameters": {"type": "object"}}},
                      {"type": "web_search_20250305", "name": "web_search"}],
            "tool_choice": {"type": "function", "function": {"name": "look"}},
            "extra": {"thinking": {"type": "enabled", "budget_tokens": 1024}, "top_p": 0.9,
                      "top_k": 5},
        },
    )


@pytest.mark.parametrize(("choice", "expected"), [
    ({"type": "auto"}, "auto"), ({"type": "any"}, "required"), ({"type": "none"}, "none"),
    ({"type": "auto", "disable_parallel_tool_use": True}, "auto"),
])
def test_tool_choice_mapping(choice: dict[str, Any], expected: str) -> None:
    assert parse_messages_request(body(tool_choice=choice)).options["tool_choice"] == expected


def test_system_variants() -> None:
    assert parse_messages_request(body(system="s")).messages[0] == {"role": "system",
                                                                    "content": "s"}
    assert parse_messages_request(body(system="")).messages == USER
    two = parse_messages_request(body(system=[{"type": "text", "text": "a"},
                                              {"type": "text", "text": "b"}])).messages[0]
    assert two == {"role": "system", "content": [{"type": "text", "text": "a"},
                                                 {"type": "text", "text": "b"}]}


def test_a_minimal_request() -> None:
    call = parse_messages_request(body())
    assert call == ChatCall("claude-x", USER, options={"max_tokens": 100})


# ----------------------------------------------------------------- answers

USAGE = Usage(input_tokens=100, output_tokens=40, cached_input_tokens=30, cache_write_tokens=10,
              reasoning_tokens=5)


def test_usage_conversion_excludes_cache_from_input() -> None:
    assert anthropic_usage(USAGE) == {"input_tokens": 60, "cache_creation_input_tokens": 10,
                                      "cache_read_input_tokens": 30, "output_tokens": 40}
    assert anthropic_usage(None)["input_tokens"] == 0


@pytest.mark.parametrize(("reason", "stop"), [
    ("stop", "end_turn"), ("length", "max_tokens"), ("tool_calls", "tool_use"),
    ("content_filter", "refusal"), ("error", "end_turn"),
])
def test_render_message(reason: Any, stop: str) -> None:
    calls = (ToolCall("toolu_1", "look", '{"x": 1}'), ToolCall("toolu_2", "see", ""),
             ToolCall("toolu_3", "bad", "not json"))
    data = json.loads(render_message(result(Response("hi", reason, USAGE, calls)),
                                     model_label="claude-x"))
    assert data == {
        "id": "msg_req_1", "type": "message", "role": "assistant", "model": "claude-x",
        "content": [{"type": "text", "text": "hi"},
                    {"type": "tool_use", "id": "toolu_1", "name": "look", "input": {"x": 1}},
                    {"type": "tool_use", "id": "toolu_2", "name": "see", "input": {}},
                    {"type": "tool_use", "id": "toolu_3", "name": "bad",
                     "input": {"_raw": "not json"}}],
        "stop_reason": stop, "stop_sequence": None, "usage": anthropic_usage(USAGE),
    }


def test_an_empty_answer_still_has_a_text_block() -> None:
    data = json.loads(render_message(result(Response("", "stop", Usage())), model_label="m"))
    assert data["content"] == [{"type": "text", "text": ""}]


# ----------------------------------------------------------------- streaming

def frames(raw: bytes) -> list[tuple[str, Any]]:
    assert raw.endswith(b"\n\n")
    found = []
    for frame in raw.split(b"\n\n")[:-1]:
        event, data = frame.split(b"\n")
        assert event.startswith(b"event: ") and data.startswith(b"data: ")
        payload = json.loads(data[len(b"data: "):])
        assert payload["type"] == event[len(b"event: "):].decode()
        found.append((payload["type"], payload))
    return found


def test_stream_framing_is_exact_for_text() -> None:
    encoder = AnthropicSSEEncoder(message_id="msg_1", model_label="m", input_tokens=3)
    raw = encoder.encode(StreamChunk(text="Hi")) + encoder.finish(Usage(3, 1), "stop")
    assert raw == (
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1",'
        b'"type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,'
        b'"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":0}}}\n\n'
        b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
        b'"content_block":{"type":"text","text":""}}\n\n'
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"text_delta","text":"Hi"}}\n\n'
        b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
        b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":'
        b'"end_turn","stop_sequence":null},"usage":{"input_tokens":3,'
        b'"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}\n\n'
        b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    )


def test_stream_with_text_then_tool_use() -> None:
    encoder = AnthropicSSEEncoder(message_id="msg_1", model_label="m")
    raw = b"".join([
        encoder.encode(StreamChunk(text="Let me ")),
        encoder.encode(StreamChunk(text="look.")),
        encoder.encode(StreamChunk(tool_call_index=0, tool_call_id="call_1",
                                   tool_call_name="look")),
        encoder.encode(StreamChunk(tool_call_index=0, tool_call_arguments='{"x":')),
        encoder.encode(StreamChunk(tool_call_index=0, tool_call_arguments="1}")),
        encoder.encode(StreamChunk(finish_reason="tool_calls", usage=USAGE)),
        encoder.finish(),
    ])
    found = frames(raw)
    assert [kind for kind, _ in found] == [
        "message_start", "content_block_start", "content_block_delta", "content_block_delta",
        "content_block_stop", "content_block_start", "content_block_delta",
        "content_block_delta", "content_block_stop", "message_delta", "message_stop",
    ]
    assert found[5][1] == {"type": "content_block_start", "index": 1, "content_block": {
        "type": "tool_use", "id": "call_1", "name": "look", "input": {}}}
    assert [found[i][1]["delta"] for i in (6, 7)] == [
        {"type": "input_json_delta", "partial_json": '{"x":'},
        {"type": "input_json_delta", "partial_json": "1}"}]
    assert found[9][1]["delta"]["stop_reason"] == "tool_use"
    assert found[9][1]["usage"] == anthropic_usage(USAGE)
    assert encoder.finish() == b""  # once only


def test_an_empty_stream_is_still_well_formed() -> None:
    found = frames(AnthropicSSEEncoder(message_id="m1", model_label="m").finish())
    assert [kind for kind, _ in found] == ["message_start", "message_delta", "message_stop"]


def test_a_mid_stream_error_event() -> None:
    encoder = AnthropicSSEEncoder(message_id="m1", model_label="m")
    found = frames(encoder.error(err.ProviderTimeoutError("slow")))
    assert found == [("error", {"type": "error",
                                "error": {"type": "api_error", "message": "slow"}})]


# ----------------------------------------------------------------- errors

ERRORS: list[tuple[Exception, int, str]] = [
    (WireError(401, "bad key"), 401, "authentication_error"),
    (WireError(403, "model not allowed"), 403, "permission_error"),
    (WireError(413, "too big"), 413, "request_too_large"),
    (err.UnknownModelError("claude-5", ["claude-4"]), 404, "not_found_error"),
    (err.UnsupportedCapabilityError("m", ["vision"]), 400, "invalid_request_error"),
    (err.BudgetExceededError("key:k", Decimal(1), Decimal(1), retry_after=60), 429,
     "rate_limit_error"),
    (err.RateLimitedError("slow down", retry_after=2), 429, "rate_limit_error"),
    (err.BadRequestError("bad", status_code=400), 400, "invalid_request_error"),
    (err.AuthenticationError("bad upstream key", status_code=401), 502, "api_error"),
    (err.InternalServerError("boom", status_code=500), 502, "api_error"),
    (err.ProviderTimeoutError("slow"), 504, "api_error"),
    (err.AllProvidersFailedError([]), 503, "overloaded_error"),
    (err.ConfigError("bad"), 500, "api_error"),
    (RuntimeError("bug"), 500, "api_error"),
]


@pytest.mark.parametrize(("error", "status", "kind"), ERRORS,
                         ids=[type(case[0]).__name__ for case in ERRORS])
def test_error_bodies(error: Exception, status: int, kind: str) -> None:
    code, headers, raw = render_error(error)
    assert code == status
    payload = json.loads(raw)
    assert set(payload) == {"type", "error"} and set(payload["error"]) == {"type", "message"}
    assert payload["type"] == "error" and payload["error"]["type"] == kind
    retry_after = getattr(error, "retry_after", None)
    assert headers == ({"retry-after": str(int(retry_after))} if retry_after else {})


# ----------------------------------------------------------------- fuzz

FIELDS = st.sampled_from([
    "model", "max_tokens", "messages", "system", "role", "content", "type", "text", "source",
    "media_type", "data", "url", "id", "name", "input", "tool_use_id", "is_error", "tools",
    "input_schema", "tool_choice", "stop_sequences", "temperature", "stream", "metadata",
    "user_id", "top_k",
])
SHAPED = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(
        ["user", "assistant", "text", "image", "tool_use", "tool_result", "base64", "url",
         "auto", "tool", "x"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(FIELDS, inner, max_size=5),
    max_leaves=25,
)
REQUESTS = st.fixed_dictionaries(
    {"model": st.one_of(st.just("m"), SHAPED), "max_tokens": st.one_of(st.just(10), SHAPED),
     "messages": st.lists(st.dictionaries(FIELDS, SHAPED, max_size=4), max_size=3)},
    optional={name: SHAPED for name in ("system", "tools", "tool_choice", "stop_sequences",
                                        "temperature", "stream", "metadata", "top_k")},
)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def only_4xx(raw: bytes) -> None:
    try:
        call = parse_messages_request(raw)
    except WireError as error:
        assert 400 <= error.status < 500
        assert json.loads(render_error(error)[2])["type"] == "error"
    else:
        assert isinstance(call, ChatCall)


@FUZZ
@given(st.binary(max_size=200))
def test_fuzz_random_bytes(raw: bytes) -> None:
    only_4xx(raw)


@FUZZ
@given(REQUESTS)
def test_fuzz_request_shaped_json(value: Any) -> None:
    only_4xx(json.dumps(value).encode())
