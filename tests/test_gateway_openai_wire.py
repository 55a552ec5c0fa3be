"""The OpenAI wire of the gateway: request parsing, answers, SSE framing and error mapping."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelrouter import errors as err
from modelrouter.adapters.base import Response, StreamChunk, ToolCall
from modelrouter.catalog.pricing import Usage
from modelrouter.gateway.openai_wire import (
    ChatCall,
    SSEEncoder,
    WireError,
    classify_error,
    parse_chat_request,
    render_completion,
    render_error,
)
from modelrouter.routing.router import RouterResult

USER = [{"role": "user", "content": "hi"}]


def body(**fields: Any) -> bytes:
    return json.dumps({"model": "gpt-x", "messages": USER, **fields}).encode()


def result(response: Response) -> RouterResult:
    return RouterResult(response=response, model="openai:gpt-x", provider="openai", tier="fast",
                        request_id="req_1", fallback_depth=0, cost=None, latency_s=0.1)


# ----------------------------------------------------------------- malformed input

MALFORMED: list[tuple[str, bytes, int, str | None]] = [
    ("invalid utf-8", b'{"model": "\xff\xfe"}', 400, None),
    ("not json", b"{model: x", 400, None),
    ("empty body", b"", 400, None),
    ("json array", b"[1, 2]", 400, None),
    ("json string", b'"hello"', 400, None),
    ("NaN", b'{"model": "m", "messages": [], "temperature": NaN}', 400, None),
    ("huge float", body(temperature=1).replace(b'"temperature": 1', b'"temperature": 1e999'),
     400, None),
    ("huge int", b'{"model": "m", "n": ' + b"9" * 5000 + b"}", 400, None),
    ("deep nesting", b'{"model": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400, None),
    ("lone surrogate", b'{"model": "m\\ud800", "messages": [{"role": "user", "content": "x"}]}',
     400, None),
    ("missing model", json.dumps({"messages": USER}).encode(), 400, "model"),
    ("model not a string", json.dumps({"model": 3, "messages": USER}).encode(), 400, "model"),
    ("empty model", json.dumps({"model": "", "messages": USER}).encode(), 400, "model"),
    ("missing messages", b'{"model": "m"}', 400, "messages"),
    ("messages not a list", b'{"model": "m", "messages": {}}', 400, "messages"),
    ("no messages", b'{"model": "m", "messages": []}', 400, "messages"),
    ("message not an object", body(messages=["hi"]), 400, "messages[0]"),
    ("bad role", body(messages=[{"role": "wizard", "content": "x"}]), 400, "messages[0].role"),
    ("role unhashable", body(messages=[{"role": ["user"], "content": "x"}]), 400,
     "messages[0].role"),
    ("missing role", body(messages=[{"content": "x"}]), 400, "messages[0].role"),
    ("user without content", body(messages=[{"role": "user"}]), 400, "messages[0].content"),
    ("content a number", body(messages=[{"role": "user", "content": 3}]), 400,
     "messages[0].content"),
    ("part without type", body(messages=[{"role": "user", "content": [{"text": "x"}]}]), 400,
     "messages[0].content[0].type"),
    ("image part without url", body(messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {}}]}]), 400, "messages[0].content[0].image_url.url"),
    ("image in a system message", body(messages=[{"role": "system", "content": [
        {"type": "image_url", "image_url": {"url": "x"}}]}]), 400,
     "messages[0].content[0].type"),
    ("tool without id", body(messages=[{"role": "tool", "content": "x"}]), 400,
     "messages[0].tool_call_id"),
    ("tool call without function", body(messages=[{"role": "assistant", "tool_calls": [
        {"id": "c", "type": "function"}]}]), 400, "messages[0].tool_calls[0].function"),
    ("tool call arguments an object", body(messages=[{"role": "assistant", "tool_calls": [
        {"id": "c", "function": {"name": "f", "arguments": {}}}]}]), 400,
     "messages[0].tool_calls[0].function.arguments"),
    ("n=2", body(n=2), 400, "n"),
    ("n a string", body(n="1"), 400, "n"),
    ("stream a string", body(stream="yes"), 400, "stream"),
    ("stream_options a list", body(stream=True, stream_options=[]), 400, "stream_options"),
    ("include_usage a string", body(stream=True, stream_options={"include_usage": "y"}), 400,
     "stream_options.include_usage"),
    ("max_tokens zero", body(max_tokens=0), 400, "max_tokens"),
    ("max_tokens a bool", body(max_tokens=True), 400, "max_tokens"),
    ("max_tokens a float", body(max_tokens=1.5), 400, "max_tokens"),
    ("temperature too high", body(temperature=3), 400, "temperature"),
    ("temperature a string", body(temperature="hot"), 400, "temperature"),
    ("top_p too high", body(top_p=1.5), 400, "top_p"),
    ("stop a number", body(stop=3), 400, "stop"),
    ("stop list of numbers", body(stop=[1]), 400, "stop"),
    ("tools an object", body(tools={}), 400, "tools"),
    ("tool of another type", body(tools=[{"type": "retrieval"}]), 400, "tools[0].type"),
    ("tool without name", body(tools=[{"type": "function", "function": {}}]), 400,
     "tools[0].function.name"),
    ("tool parameters a list", body(tools=[{"type": "function", "function": {
        "name": "f", "parameters": []}}]), 400, "tools[0].function.parameters"),
    ("tool_choice unknown", body(tool_choice="sometimes"), 400, "tool_choice"),
    ("tool_choice without name", body(tool_choice={"type": "function"}), 400, "tool_choice"),
    ("response_format unknown", body(response_format={"type": "xml"}), 400,
     "response_format.type"),
    ("response_format type a list", body(response_format={"type": []}), 400,
     "response_format.type"),
    ("json_schema missing", body(response_format={"type": "json_schema"}), 400,
     "response_format.json_schema"),
    ("seed a string", body(seed="1"), 400, "seed"),
    ("user a number", body(user=1), 400, "user"),
    ("legacy functions", body(functions=[{"name": "f"}]), 400, "functions"),
    ("too many messages", body(messages=USER * 11), 413, "messages"),
]


@pytest.mark.parametrize(("case", "raw", "status", "param"), MALFORMED,
                         ids=[case[0] for case in MALFORMED])
def test_malformed_bodies_are_4xx_with_an_openai_body(
    case: str, raw: bytes, status: int, param: str | None
) -> None:
    with pytest.raises(WireError) as caught:
        parse_chat_request(raw, max_messages=10)
    error = caught.value
    assert error.status == status
    if param is not None:
        assert error.param == param
    code, headers, rendered = render_error(error)
    assert code == status and headers == {}
    payload = json.loads(rendered)
    assert set(payload["error"]) == {"message", "type", "param", "code"}
    assert payload["error"]["type"] == "invalid_request_error"
    assert payload["error"]["message"]


def test_body_over_the_byte_limit_is_413() -> None:
    with pytest.raises(WireError) as caught:
        parse_chat_request(body(), max_bytes=10)
    assert caught.value.status == 413
    assert caught.value.code == "request_too_large"


# ----------------------------------------------------------------- parsing

def test_a_full_request_becomes_router_kwargs() -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}}}}]
    call = parse_chat_request(body(
        stream=True, stream_options={"include_usage": True}, n=1, max_completion_tokens=50,
        max_tokens=10, temperature=0.5, top_p=0.9, stop="END", tools=tools,
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        response_format={"type": "json_object"}, seed=7, user="u-1",
        reasoning_effort="low", logit_bias=None, parallel_tool_calls=False,
    ))
    assert call == ChatCall(
        model="gpt-x", messages=USER, stream=True, include_usage=True, user="u-1",
        options={
            "max_tokens": 50, "temperature": 0.5, "stop": ["END"], "tools": tools,
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "response_format": {"type": "json_object"},
            "extra": {"reasoning_effort": "low", "parallel_tool_calls": False, "top_p": 0.9,
                      "seed": 7},
        },
    )


def test_a_minimal_request_sets_no_options() -> None:
    call = parse_chat_request(body(stream=False, stream_options={"include_usage": True},
                                   response_format={"type": "text"}, tools=[], stop=[]))
    assert call == ChatCall("gpt-x", USER)


def test_every_message_shape_is_accepted() -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "developer", "content": [{"type": "text", "text": "really"}]},
        {"role": "user", "name": "ann", "content": [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            {"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}},
        ]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "look", "arguments": "{\"x\": 1}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "a cat"},
        {"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}]},
    ]
    assert parse_chat_request(body(messages=messages)).messages == messages


def test_memoryview_and_bytearray_bodies_parse() -> None:
    assert parse_chat_request(bytearray(body())).model == "gpt-x"
    assert parse_chat_request(memoryview(body())).model == "gpt-x"


# ----------------------------------------------------------------- answers

USAGE = Usage(input_tokens=100, output_tokens=40, cached_input_tokens=30, cache_write_tokens=10,
              reasoning_tokens=15)


def test_render_completion_fills_usage_details() -> None:
    raw = render_completion(result(Response("hello", "stop", USAGE)), created=123,
                            model_label="openai:gpt-x")
    assert b" " not in raw.replace(b"hello", b"")  # compact separators
    assert json.loads(raw) == {
        "id": "chatcmpl-req_1", "object": "chat.completion", "created": 123,
        "model": "openai:gpt-x", "system_fingerprint": None,
        "choices": [{"index": 0, "logprobs": None, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "hello", "refusal": None}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 40, "total_tokens": 140,
                  "prompt_tokens_details": {"cached_tokens": 30},
                  "completion_tokens_details": {"reasoning_tokens": 15}},
    }


def test_render_completion_with_tool_calls_has_null_content() -> None:
    calls = (ToolCall("call_1", "look", '{"x":1}'), ToolCall("call_2", "see", "{}"))
    data = json.loads(render_completion(result(Response("", "tool_calls", Usage(), calls)),
                                        created=1, model_label="m"))
    choice = data["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    assert choice["message"]["tool_calls"] == [call.to_openai() for call in calls]
    assert data["usage"]["total_tokens"] == 0


def test_an_error_finish_reason_is_reported_as_stop() -> None:
    data = json.loads(render_completion(result(Response("x", "error", Usage())), created=1,
                                        model_label="m"))
    assert data["choices"][0]["finish_reason"] == "stop"


def test_parse_then_render_round_trip() -> None:
    call = parse_chat_request(body(max_tokens=5))
    answer = Response(f"echo {call.messages[-1]['content']}", "length", Usage(3, 5))
    data = json.loads(render_completion(result(answer), created=9, model_label=call.model))
    assert data["model"] == "gpt-x"
    assert data["choices"][0]["message"]["content"] == "echo hi"
    assert data["choices"][0]["finish_reason"] == "length"


# ----------------------------------------------------------------- streaming

HEAD = b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":7,"model":"m",'


def test_sse_framing_is_exact() -> None:
    encoder = SSEEncoder(completion_id="chatcmpl-1", created=7, model_label="m",
                         include_usage=True)
    out = [
        encoder.encode(StreamChunk(text="Hel")),
        encoder.encode(StreamChunk(text='lo "x"\n')),
        encoder.encode(StreamChunk(finish_reason="stop", usage=Usage(4, 2))),
        encoder.finish(),
    ]
    assert out == [
        HEAD + b'"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},'
        b'"logprobs":null,"finish_reason":null}]}\n\n',
        HEAD + b'"choices":[{"index":0,"delta":{"content":"lo \\"x\\"\\n"},'
        b'"logprobs":null,"finish_reason":null}]}\n\n',
        HEAD + b'"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}\n\n',
        HEAD + b'"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":2,'
        b'"total_tokens":6,"prompt_tokens_details":{"cached_tokens":0},'
        b'"completion_tokens_details":{"reasoning_tokens":0}}}\n\n'
        b"data: [DONE]\n\n",
    ]


def events(raw: bytes) -> list[Any]:
    assert raw.endswith(b"\n\n")
    found = []
    for frame in raw.split(b"\n\n")[:-1]:
        assert frame.startswith(b"data: ")
        payload = frame[len(b"data: "):]
        found.append(payload.decode() if payload == b"[DONE]" else json.loads(payload))
    return found


def test_tool_call_deltas_carry_index_id_name_then_arguments() -> None:
    encoder = SSEEncoder(completion_id="c", created=1, model_label="m")
    raw = b"".join([
        encoder.encode(StreamChunk(tool_call_index=0, tool_call_id="call_a",
                                   tool_call_name="look")),
        encoder.encode(StreamChunk(tool_call_index=0, tool_call_arguments='{"x":')),
        encoder.encode(StreamChunk(tool_call_index=0, tool_call_arguments="1}")),
        encoder.encode(StreamChunk(tool_call_index=1, tool_call_id="call_b",
                                   tool_call_name="see", tool_call_arguments="{}")),
        encoder.finish(Usage(1, 1), "tool_calls"),
    ])
    found = events(raw)
    deltas = [event["choices"][0]["delta"] for event in found[:-1]]
    assert deltas[0] == {"role": "assistant", "tool_calls": [
        {"index": 0, "id": "call_a", "type": "function",
         "function": {"name": "look", "arguments": ""}}]}
    assert deltas[1] == {"tool_calls": [{"index": 0, "function": {"arguments": '{"x":'}}]}
    assert deltas[2] == {"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}
    assert deltas[3]["tool_calls"][0]["id"] == "call_b"
    assert found[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert found[-1] == "[DONE]"  # no usage chunk unless asked for


def test_an_empty_stream_still_sends_role_finish_usage_and_done() -> None:
    encoder = SSEEncoder(completion_id="c", created=1, model_label="m", include_usage=True)
    found = events(encoder.finish(None, None))
    assert found[0]["choices"][0] == {"index": 0, "delta": {"role": "assistant", "content": ""},
                                      "logprobs": None, "finish_reason": "stop"}
    assert found[1]["usage"]["total_tokens"] == 0 and found[1]["choices"] == []
    assert found[2] == "[DONE]"


def test_finish_is_sent_once_and_usage_from_finish_wins() -> None:
    encoder = SSEEncoder(completion_id="c", created=1, model_label="m", include_usage=True)
    encoder.encode(StreamChunk(text="a", finish_reason="length", usage=Usage(1, 1)))
    found = events(encoder.finish(Usage(9, 9)))
    assert len(found) == 2 and found[0]["usage"]["prompt_tokens"] == 9


def test_a_mid_stream_error_is_an_error_event() -> None:
    encoder = SSEEncoder(completion_id="c", created=1, model_label="m")
    found = events(encoder.error(err.ProviderTimeoutError("slow", kind="first_token")))
    assert found == [{"error": {"message": "slow", "type": "timeout", "param": None,
                                "code": "upstream_timeout"}}]


# ----------------------------------------------------------------- errors

def assert_retry_after(headers: dict[str, str], expected: str | None) -> None:
    if expected == "3600":  # a CircuitOpenError's ``until`` − now: the clock moves on
        assert 3000 < int(headers["retry-after"]) <= 3600
    else:
        assert headers.get("retry-after") == expected
    assert set(headers) <= {"retry-after"}


def status_error(cls: type[err.ProviderStatusError], status: int, **kw: Any) -> Exception:
    return cls("upstream says no", status_code=status, provider="openai", model="gpt-x", **kw)


SOON = datetime.now(UTC) + timedelta(hours=1)
ERRORS: list[tuple[Exception, int, str | None]] = [
    (WireError(401, "bad key", code="invalid_api_key"), 401, None),
    (WireError(403, "model not allowed"), 403, None),
    (err.ConfigError("bad yaml", file="/etc/secret.yaml"), 500, None),
    (err.CatalogError("broken catalog"), 500, None),
    (err.ProviderNotFoundError("nope"), 500, None),
    (err.ConfigError("unknown tier 'fsat'", hint="tiers are fast"), 404, None),
    (err.UnknownModelError("gpt-5o", ["gpt-4o"]), 404, None),
    (err.UnsupportedCapabilityError("m", ["vision"]), 400, None),
    (err.PricingError("no price"), 500, None),
    (err.BudgetExceededError("key:k", Decimal(1), Decimal(1), retry_after=3600), 429, "3600"),
    (err.BudgetExceededError("key:k", Decimal(1), Decimal(1)), 429, None),
    (err.RateLimitedError("slow down", retry_after=1.2), 429, "2"),
    (err.CircuitOpenError("m", SOON), 503, "3600"),
    (err.ValidationFailedError("json", "not json"), 502, None),
    (err.ProviderError("odd"), 502, None),
    (err.ProviderConnectionError("refused"), 502, None),
    (err.ProviderTimeoutError("slow"), 504, None),
    (status_error(err.ProviderStatusError, 418), 502, None),
    (status_error(err.ProviderStatusError, 413), 413, None),
    (status_error(err.BadRequestError, 400), 400, None),
    (status_error(err.AuthenticationError, 401), 502, None),
    (status_error(err.PermissionDeniedError, 403), 502, None),
    (status_error(err.NotFoundError, 404), 502, None),
    (status_error(err.ConflictError, 409), 502, None),
    (status_error(err.UnprocessableEntityError, 422), 422, None),
    (status_error(err.RateLimitError, 429, retry_after=7), 429, "7"),
    (status_error(err.InternalServerError, 503), 502, None),
    (err.RouterError("plain"), 500, None),
    (ValueError("a bug"), 500, None),
]


@pytest.mark.parametrize(("error", "status", "retry_after"), ERRORS,
                         ids=[type(case[0]).__name__ for case in ERRORS])
def test_every_error_maps_to_a_status_and_an_openai_body(
    error: Exception, status: int, retry_after: str | None
) -> None:
    code, headers, raw = render_error(error)
    assert code == status
    assert_retry_after(headers, retry_after)
    payload = json.loads(raw)["error"]
    assert set(payload) == {"message", "type", "param", "code"}
    assert isinstance(payload["message"], str) and payload["message"]
    if status == 500:
        assert "secret" not in payload["message"] and "bug" not in payload["message"]


def test_every_router_error_subclass_is_covered() -> None:
    covered = {type(case[0]) for case in ERRORS}
    missing = {cls for cls in vars(err).values() if isinstance(cls, type)
               and issubclass(cls, err.RouterError)} - covered - {err.AllProvidersFailedError}
    assert not missing


def failed(*errors: BaseException) -> err.AllProvidersFailedError:
    return err.AllProvidersFailedError([(f"m{i}", e) for i, e in enumerate(errors)])


ALL_FAILED: list[tuple[err.AllProvidersFailedError, int, str | None]] = [
    (failed(), 503, None),
    (err.AllProvidersFailedError([("m", err.RouterError("too long"))], summary="no fit"), 503,
     None),
    (failed(err.ProviderTimeoutError("a"), err.ProviderTimeoutError("b", kind="connect")), 504,
     None),
    (failed(err.ProviderTimeoutError("a"), status_error(err.InternalServerError, 500)), 502,
     None),
    (failed(err.ProviderConnectionError("a"), status_error(err.AuthenticationError, 401)), 502,
     None),
    (failed(status_error(err.BadRequestError, 400), status_error(err.BadRequestError, 400)),
     400, None),
    (failed(status_error(err.RateLimitError, 429, retry_after=20),
            status_error(err.RateLimitError, 429, retry_after=5)), 503, "5"),
    (failed(status_error(err.RateLimitError, 429), status_error(err.InternalServerError, 500)),
     503, None),
    (failed(err.CircuitOpenError("m", SOON), err.ProviderTimeoutError("a")), 503, "3600"),
]


@pytest.mark.parametrize(("error", "status", "retry_after"), ALL_FAILED)
def test_all_providers_failed_status(
    error: err.AllProvidersFailedError, status: int, retry_after: str | None
) -> None:
    code, headers, raw = render_error(error)
    assert code == status
    assert_retry_after(headers, retry_after)
    assert json.loads(raw)["error"]["message"] == error.message


def test_classify_error_keeps_unknown_model_suggestions() -> None:
    info = classify_error(err.UnknownModelError("gpt-5o", ["gpt-4o"]))
    assert (info.status, info.param, info.code) == (404, "model", "model_not_found")
    assert "did you mean 'gpt-4o'" in info.message


# ----------------------------------------------------------------- fuzz

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=4),
    max_leaves=20,
)
FIELDS = st.sampled_from([
    "model", "messages", "stream", "stream_options", "n", "max_tokens", "temperature", "top_p",
    "stop", "tools", "tool_choice", "response_format", "seed", "user", "role", "content",
    "tool_calls", "function", "name", "arguments", "type", "text", "image_url", "url",
    "tool_call_id", "include_usage", "json_schema", "schema", "parameters", "id",
])
SHAPED = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(
        ["user", "assistant", "tool", "system", "function", "text", "image_url", "auto", "x"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(FIELDS, inner, max_size=5),
    max_leaves=25,
)
REQUESTS = st.fixed_dictionaries(
    {"model": st.one_of(st.just("m"), SHAPED),
     "messages": st.lists(st.dictionaries(FIELDS, SHAPED, max_size=4), max_size=3)},
    optional={name: SHAPED for name in ("stream", "stream_options", "n", "max_tokens",
                                        "temperature", "stop", "tools", "tool_choice",
                                        "response_format", "seed", "user")},
)


def only_4xx(raw: bytes) -> None:
    try:
        call = parse_chat_request(raw)
    except WireError as error:
        assert 400 <= error.status < 500
        status, _, rendered = render_error(error)
        assert status == error.status and json.loads(rendered)["error"]["message"]
    else:
        assert isinstance(call, ChatCall)
        json.dumps(call.messages, ensure_ascii=False).encode()  # safe to send upstream


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(st.binary(max_size=200))
def test_fuzz_random_bytes(raw: bytes) -> None:
    only_4xx(raw)


@FUZZ
@given(JSON)
def test_fuzz_random_json(value: Any) -> None:
    only_4xx(json.dumps(value).encode())


@FUZZ
@given(REQUESTS)
def test_fuzz_request_shaped_json(value: Any) -> None:
    only_4xx(json.dumps(value).encode())
