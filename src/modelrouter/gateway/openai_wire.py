"""OpenAI Chat Completions as a server: parse bodies, render answers, streams and errors.

No I/O. ``parse_chat_request`` raises only ``WireError`` (4xx), whatever bytes it gets.
Unknown non-null parameters, ``top_p`` and ``seed`` go to the provider in ``options["extra"]``.
Status of an error (``classify_error``; the Anthropic surface uses the same numbers):

- WireError: its own status (400; 413 body too large / too many messages; 401, 403 …)
- 400/422/413: UnsupportedCapabilityError; a provider's 400/422/413 (the request was bad)
- 404: UnknownModelError (with "did you mean"); ConfigError "unknown tier" (``tier:<typo>``)
- 429 + Retry-After when known: BudgetExceededError, RateLimitedError, a provider's 429
- 502: a provider's 401/403/404/409/other 4xx/5xx (upstream's fault, not the caller's),
  ProviderConnectionError, ValidationFailedError; 504: ProviderTimeoutError
- 503 + Retry-After (until − now): CircuitOpenError
- AllProvidersFailedError: 504 if every attempt timed out; 502 if every attempt was a timeout
  or a bad upstream (5xx, broken connection, bad upstream auth); the caller's status (400 …)
  if every attempt rejected the request itself; else 503 (+ Retry-After: the shortest hint)
- 500, with a generic message: ConfigError, PricingError, anything else
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from modelrouter import errors as err
from modelrouter.adapters.base import StreamChunk
from modelrouter.catalog.pricing import Usage

if TYPE_CHECKING:
    from modelrouter.routing.router import RouterResult

__all__ = [
    "ChatCall", "ErrorInfo", "SSEEncoder", "WireError", "classify_error", "decode_body",
    "dumps", "openai_usage", "parse_chat_request", "render_completion", "render_error",
]

DEFAULT_MAX_MESSAGES = 1000
MAX_TOKENS_LIMIT = 2**31 - 1
DONE = b"data: [DONE]\n\n"
_TAIL = b',"logprobs":null,"finish_reason":null}]}\n\n'
_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
_TOOL_CHOICES = frozenset({"none", "auto", "required"})
_FORMATS = frozenset({"text", "json_object", "json_schema"})
_FINISH = frozenset({"stop", "length", "tool_calls", "content_filter"})
_CONSUMED = frozenset({"model", "messages", "stream", "stream_options", "n", "max_tokens",
                       "max_completion_tokens", "temperature", "top_p", "stop", "tools",
                       "tool_choice", "response_format", "seed", "user"})
_STATUS_TYPE = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error",
                500: "api_error", 502: "api_error", 503: "service_unavailable", 504: "timeout"}


def dumps(value: Any) -> bytes:
    """Compact, ASCII-only JSON (never fails to encode, even on lone surrogates)."""
    return _ENCODER.encode(value).encode("ascii")


class WireError(Exception):
    """A request refused before routing (or by the gateway's own checks: 401, 403, 413…)."""

    def __init__(self, status: int, message: str, param: str | None = None,
                 code: str | None = None, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = self.http_status = status
        self.message, self.param, self.code, self.retry_after = message, param, code, retry_after

    @property
    def error_type(self) -> str:
        return _STATUS_TYPE.get(self.status, "invalid_request_error")

    def to_openai_body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.error_type,
                          "param": self.param, "code": self.code}}


@dataclass(frozen=True, slots=True)
class ChatCall:
    """``router.chat(call.messages, model=call.model, **call.options)``; ``options`` holds
    only what the request set; ``user`` (OpenAI ``user``, Anthropic ``metadata.user_id``) is
    for tagging and not sent upstream."""

    model: str
    messages: list[dict[str, Any]]
    stream: bool = False
    include_usage: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    user: str | None = None


def bad(message: str, param: str | None = None, code: str = "invalid_request") -> WireError:
    return WireError(400, message, param, code)


def _finite(text: str) -> float:  # also gets NaN / Infinity, which JSON does not have
    if not math.isfinite(value := float(text)):
        raise ValueError(f"{text[:20]} is not a finite number")
    return value


def decode_body(body: bytes, *, max_bytes: int | None = None) -> dict[str, Any]:
    """Strict UTF-8 JSON object, or a WireError (400; 413 past ``max_bytes``)."""
    expect(isinstance(body, bytes | bytearray | memoryview), "the request body", "bytes")
    if max_bytes is not None and len(body) > max_bytes:
        raise WireError(413, f"request body exceeds {max_bytes} bytes", None,
                        "request_too_large")
    raw = bytes(body)
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_finite,
                          parse_float=_finite)
    except UnicodeDecodeError as error:
        raise bad(f"request body is not valid UTF-8 (byte {error.start})", None,
                  "invalid_encoding") from None
    except (ValueError, RecursionError) as error:  # JSONDecodeError, huge ints, NaN, nesting
        raise bad(f"request body is not valid JSON: {str(error)[:200]}", None,
                  "invalid_json") from None
    if not isinstance(data, dict):
        raise bad("request body must be a JSON object", None, "invalid_json")
    if b"\\u" in raw and _SURROGATE.search(raw):
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise bad("request body contains an unpaired UTF-16 surrogate escape", None,
                      "invalid_encoding") from None
    return data


_WHAT: dict[Any, str] = {str: "a string", list: "an array", dict: "an object", bool: "a boolean",
                         int: "an integer", (int, float): "a number",
                         (str, list): "a string or an array of content parts"}


def expect(ok: Any, param: str, what: str) -> None:
    if not ok:
        raise WireError(400, f"{param} must be {what}", param, "invalid_type")


def get(data: Mapping[str, Any], name: str, kind: type | tuple[type, ...], at: str = "",
        req: bool = False) -> Any:
    """``data[name]`` (at path ``at``): None when absent or null, else of ``kind``."""
    value, param = data.get(name), f"{at}.{name}" if at else name
    if value is None and req:
        raise bad(f"missing required parameter: {param}", param, "missing_required_parameter")
    if value is None:
        return None
    expect(isinstance(value, kind) and (kind is bool or not isinstance(value, bool)), param,
           _WHAT[kind])
    return value


def in_range(data: Mapping[str, Any], name: str, low: float, high: float) -> Any:
    value = get(data, name, int if isinstance(low, int) else (int, float))
    if value is not None and not low <= value <= high:
        raise bad(f"{name} must be between {low} and {high}, got {value}", name, "invalid_value")
    return value


def check_model(data: Mapping[str, Any]) -> str:
    model: str = get(data, "model", str, req=True)
    if not model or len(model) > 256:
        raise bad("model must be a non-empty string of at most 256 characters", "model",
                  "invalid_value")
    return model


def check_messages(data: Mapping[str, Any], max_messages: int) -> list[Any]:
    messages: list[Any] = get(data, "messages", list, req=True)
    expect(messages, "messages", "a non-empty array")
    if len(messages) > max_messages:
        raise WireError(413, f"too many messages: {len(messages)} > {max_messages}",
                        "messages", "too_many_messages")
    return messages


def check_stop(value: Any, param: str) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    expect(value is None or (isinstance(value, list) and all(isinstance(s, str) for s in value)),
           param, "a string or an array of strings")
    return value or None


def passthrough(data: Mapping[str, Any], consumed: frozenset[str]) -> dict[str, Any]:
    """Top-level parameters we do not interpret, minus nulls: the provider's business."""
    return {k: v for k, v in data.items() if k not in consumed and v is not None}


def _check_parts(parts: list[Any], where: str, *, text_only: bool) -> None:
    for j, part in enumerate(parts):
        at = f"{where}[{j}]"
        expect(isinstance(part, dict), at, "an object")
        kind = get(part, "type", str, at, req=True)
        if kind in ("text", "refusal"):
            get(part, kind, str, at, req=True)
        elif text_only:
            raise bad(f"{at}.type must be 'text' here, got {kind[:50]!r}", f"{at}.type")
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            expect(isinstance(url, str), f"{at}.image_url.url", "a string")


def _check_content(message: Mapping[str, Any], at: str, *, text_only: bool,
                   optional: bool = False) -> None:
    content = get(message, "content", (str, list), at, req=not optional)
    if isinstance(content, list):
        expect(content or optional, f"{at}.content", "a non-empty array")
        _check_parts(content, f"{at}.content", text_only=text_only)


def _check_message(message: Any, i: int) -> dict[str, Any]:
    at = f"messages[{i}]"
    expect(isinstance(message, dict), at, "an object")
    role = message.get("role")
    if not isinstance(role, str) or role not in _ROLES:
        shown = repr(role)[:50] if role is not None else "missing"
        raise bad(f"{at}.role must be one of {', '.join(sorted(_ROLES))} (got {shown})",
                  f"{at}.role", "invalid_role")
    get(message, "name", str, at)
    if role == "assistant":
        for j, call in enumerate(get(message, "tool_calls", list, at) or ()):
            where = f"{at}.tool_calls[{j}]"
            expect(isinstance(call, dict), where, "an object")
            get(call, "id", str, where, req=True)
            expect(call.get("type", "function") == "function", f"{where}.type", "'function'")
            function = get(call, "function", dict, where, req=True)
            get(function, "name", str, f"{where}.function", req=True)
            get(function, "arguments", str, f"{where}.function")
        _check_content(message, at, text_only=True, optional=True)
    elif role == "tool":
        get(message, "tool_call_id", str, at, req=True)
        _check_content(message, at, text_only=True)
    else:
        _check_content(message, at, text_only=role != "user")
    return message  # type: ignore[no-any-return]


def _check_tools(tools: list[Any]) -> list[Any]:
    for j, tool in enumerate(tools):
        at = f"tools[{j}]"
        expect(isinstance(tool, dict), at, "an object")
        expect(tool.get("type") == "function", f"{at}.type", "'function'")
        function = get(tool, "function", dict, at, req=True)
        expect(get(function, "name", str, f"{at}.function", req=True), f"{at}.function.name",
               "a non-empty string")
        get(function, "description", str, f"{at}.function")
        get(function, "parameters", dict, f"{at}.function")
    return tools


def _check_tool_choice(choice: Any) -> Any:
    function = choice.get("function") if isinstance(choice, dict) else None
    expect(choice is None or (isinstance(choice, str) and choice in _TOOL_CHOICES) or (
        isinstance(function, dict) and choice.get("type") == "function"
        and isinstance(function.get("name"), str)), "tool_choice", "'none', 'auto', 'required' or "
           '{"type": "function", "function": {"name": ...}}')
    return choice


def _check_response_format(value: Any) -> Any:
    kind = value.get("type") if isinstance(value, dict) else None
    expect(value is None or (isinstance(kind, str) and kind in _FORMATS), "response_format.type",
           "'text', 'json_object' or 'json_schema'")
    if kind == "json_schema":
        spec = get(value, "json_schema", dict, "response_format", req=True)
        get(spec, "schema", dict, "response_format.json_schema")
    return None if kind == "text" else value


def parse_chat_request(body: bytes, *, max_messages: int = DEFAULT_MAX_MESSAGES,
                       max_bytes: int | None = None) -> ChatCall:
    """An OpenAI ``POST /v1/chat/completions`` body as a ``ChatCall``; else ``WireError``."""
    data = decode_body(body, max_bytes=max_bytes)
    model = check_model(data)
    messages = [_check_message(m, i) for i, m in enumerate(check_messages(data, max_messages))]
    if data.get("functions") is not None or data.get("function_call") is not None:
        raise bad("functions are not supported: use tools", "functions", "unsupported_parameter")
    if in_range(data, "n", 1, 128) not in (None, 1):
        raise bad("only n=1 is supported", "n", "unsupported_value")
    stream = bool(get(data, "stream", bool))
    include_usage = get(get(data, "stream_options", dict) or {}, "include_usage", bool,
                        "stream_options")
    max_tokens = in_range(data, "max_completion_tokens", 1, MAX_TOKENS_LIMIT)
    temperature = in_range(data, "temperature", 0.0, 2.0)
    extra = passthrough(data, _CONSUMED)
    for name, low, high in (("top_p", 0.0, 1.0), ("seed", -(2**63), 2**64 - 1)):
        if (value := in_range(data, name, low, high)) is not None:
            extra[name] = value
    options: dict[str, Any] = {
        "max_tokens": max_tokens if max_tokens is not None else in_range(
            data, "max_tokens", 1, MAX_TOKENS_LIMIT),
        "temperature": float(temperature) if temperature is not None else None,
        "stop": check_stop(data.get("stop"), "stop"),
        "tools": _check_tools(get(data, "tools", list) or []) or None,
        "tool_choice": _check_tool_choice(data.get("tool_choice")),
        "response_format": _check_response_format(data.get("response_format")),
        "extra": extra or None,
    }
    return ChatCall(model, messages, stream, stream and bool(include_usage),
                    {k: v for k, v in options.items() if v is not None},
                    get(data, "user", str))


def openai_usage(usage: Usage | None) -> dict[str, Any]:
    """OpenAI's usage object; zeros when nothing was counted."""
    usage = usage or Usage()
    return {"prompt_tokens": usage.input_tokens, "completion_tokens": usage.output_tokens,
            "total_tokens": usage.input_tokens + usage.output_tokens,
            "prompt_tokens_details": {"cached_tokens": usage.cached_input_tokens},
            "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens}}


def finish_reason(reason: str | None) -> str:
    return reason if reason in _FINISH else "stop"  # "error" / None: the stream just ended


def render_completion(result: RouterResult, *, created: int, model_label: str) -> bytes:
    """A ``chat.completion`` object, ``usage`` always filled in."""
    response = result.response
    message: dict[str, Any] = {"role": "assistant", "refusal": None, "content": (
        response.text if response.text or not response.tool_calls else None)}
    if response.tool_calls:
        message["tool_calls"] = [call.to_openai() for call in response.tool_calls]
    return dumps({
        "id": f"chatcmpl-{result.request_id}", "object": "chat.completion",
        "created": created, "model": model_label,
        "choices": [{"index": 0, "message": message, "logprobs": None,
                     "finish_reason": finish_reason(response.finish_reason)}],
        "usage": openai_usage(response.usage), "system_fingerprint": None,
    })


class SSEEncoder:
    """``StreamChunk``s as ``chat.completion.chunk`` events: ``encode`` each, then ``finish``
    (finish chunk if not sent, usage chunk if asked, ``[DONE]``) or ``error``."""

    def __init__(self, *, completion_id: str, created: int, model_label: str,
                 include_usage: bool = False) -> None:
        head = dumps({"id": completion_id, "object": "chat.completion.chunk",
                      "created": created, "model": model_label})[:-1]
        self._head = b"data: " + head + b',"choices":[{"index":0,"delta":'
        self._usage_head = b"data: " + head + b',"choices":[],"usage":'
        self.include_usage = include_usage
        self.started = self.finished = False
        self.usage: Usage | None = None
        self._tools: set[int] = set()

    def _event(self, delta: dict[str, Any], reason: str | None = None) -> bytes:
        if not self.started:
            self.started = True
            delta = {"role": "assistant", **(delta or {"content": ""})}
        if reason is None:
            return self._head + dumps(delta) + _TAIL
        return (self._head + dumps(delta) + b',"logprobs":null,"finish_reason":"'
                + reason.encode("ascii") + b'"}]}\n\n')

    def encode(self, chunk: StreamChunk) -> bytes:
        if chunk.usage is not None:
            self.usage = chunk.usage
        index = chunk.tool_call_index
        if self.started and chunk.text and index is None and chunk.finish_reason is None:
            return self._head + b'{"content":' + dumps(chunk.text) + b"}" + _TAIL  # hot path
        out = b""
        if chunk.text or index is not None:
            delta: dict[str, Any] = {"content": chunk.text} if chunk.text else {}
            if index is not None:
                entry: dict[str, Any] = {"index": index}
                if index in self._tools:
                    entry["function"] = {"arguments": chunk.tool_call_arguments}
                else:
                    self._tools.add(index)
                    entry.update(id=chunk.tool_call_id or f"call_{index}", type="function",
                                 function={"name": chunk.tool_call_name or "",
                                           "arguments": chunk.tool_call_arguments})
                delta["tool_calls"] = [entry]
            out = self._event(delta)
        if chunk.finish_reason is not None and not self.finished:
            self.finished = True
            out += self._event({}, finish_reason(chunk.finish_reason))
        return out

    def finish(self, usage: Usage | None = None, reason: str | None = None) -> bytes:
        """The closing events; ``usage`` (else the stream's own) goes in the usage chunk."""
        out = b""
        if not self.finished:
            self.finished = True
            out = self._event({}, finish_reason(reason))
        if self.include_usage:
            out += self._usage_head + dumps(openai_usage(usage or self.usage)) + b"}\n\n"
        return out + DONE

    def error(self, error: BaseException) -> bytes:
        """A mid-stream failure, as OpenAI sends it (no ``[DONE]`` after it)."""
        return b"data: " + render_error(error)[2] + b"\n\n"


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    status: int
    type: str
    message: str
    param: str | None = None
    code: str | None = None
    retry_after: float | None = None

    def headers(self) -> dict[str, str]:
        after = self.retry_after
        return {} if after is None else {"retry-after": str(max(0, math.ceil(after)))}


def _kind(error: BaseException) -> str:
    """timeout | client | bad_gateway | unavailable: one attempt's failure."""
    if isinstance(error, err.ProviderTimeoutError):
        return "timeout"
    if isinstance(error, err.BadRequestError | err.UnprocessableEntityError
                  | err.UnsupportedCapabilityError):
        return "client"
    if isinstance(error, err.RateLimitError):
        return "unavailable"
    if isinstance(error, err.ProviderStatusError) and error.status_code == 413:
        return "client"
    if isinstance(error, err.ProviderError | err.ValidationFailedError):
        return "bad_gateway"
    return "unavailable"  # circuit open, local limits, "no model fits"


def _retry_after(error: BaseException) -> float | None:
    if isinstance(error, err.CircuitOpenError):
        until = error.until if error.until.tzinfo else error.until.replace(tzinfo=UTC)
        return max(0.0, (until - datetime.now(UTC)).total_seconds())
    value: Any = getattr(error, "retry_after", None)
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok and math.isfinite(value) else None


def _all_failed(error: err.AllProvidersFailedError) -> ErrorInfo:
    failures = [failure for _, failure in error.attempts]
    kinds = {_kind(failure) for failure in failures}
    if failures and kinds == {"timeout"}:
        return ErrorInfo(504, "timeout", error.message, code="upstream_timeout")
    if failures and kinds <= {"timeout", "bad_gateway"}:
        return ErrorInfo(502, "api_error", error.message, code="bad_gateway")
    if failures and kinds == {"client"}:
        first = classify_error(failures[0])
        return ErrorInfo(first.status, "invalid_request_error", error.message, code=first.code)
    hints = [h for failure in failures if (h := _retry_after(failure)) is not None]
    return ErrorInfo(503, "service_unavailable", error.message, code="all_providers_failed",
                     retry_after=min(hints) if hints else None)


_UPSTREAM = {"timeout": (504, "timeout", "upstream_timeout"),
             "bad_gateway": (502, "api_error", "bad_gateway"),
             "unavailable": (429, "rate_limit_error", "upstream_rate_limited")}


def classify_error(error: BaseException) -> ErrorInfo:
    """Status, type, message and Retry-After for any exception (see the module docstring)."""
    if isinstance(error, WireError):
        return ErrorInfo(error.status, error.error_type, error.message, error.param,
                         error.code, error.retry_after)
    if isinstance(error, err.AllProvidersFailedError):
        return _all_failed(error)
    kind, message = _kind(error), str(error)
    if isinstance(error, err.ProviderError | err.ValidationFailedError):
        status: int = getattr(error, "status_code", 502)
        if kind == "client":
            return ErrorInfo(status if status in (413, 422) else 400, "invalid_request_error",
                             message, code="upstream_rejected_request")
        if kind == "bad_gateway" and isinstance(error, err.ProviderStatusError):
            message = f"upstream answered {status}: {message}"
        status, type_, code = _UPSTREAM[kind]
        return ErrorInfo(status, type_, message, code=code, retry_after=_retry_after(error))
    if isinstance(error, err.RouterError) and (
            400 <= error.http_status < 500 or isinstance(error, err.CircuitOpenError)):
        body = error.to_openai_body()["error"]
        return ErrorInfo(error.http_status, error.error_type, message, body["param"],
                         body["code"], _retry_after(error))
    if isinstance(error, err.ConfigError) and message.startswith("unknown tier"):
        # ``model: "tier:<typo>"``: the caller's mistake, reported by the config layer.
        return ErrorInfo(404, "invalid_request_error", message, "model", "model_not_found")
    if isinstance(error, err.ConfigError):
        return ErrorInfo(500, "api_error", "the gateway is misconfigured; see its logs",
                         code="config_error")
    return ErrorInfo(500, "api_error", "internal error; see the gateway's logs",
                     code="internal_error")


def render_error(error: BaseException) -> tuple[int, dict[str, str], bytes]:
    """``(status, extra headers, OpenAI error body)``; the body is ``application/json``."""
    info = classify_error(error)
    body = {"error": {"message": info.message, "type": info.type, "param": info.param,
                      "code": info.code}}
    return info.status, info.headers(), dumps(body)
