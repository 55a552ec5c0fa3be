"""Anthropic's Messages API (``POST /v1/messages``) as a server, on top of our OpenAI shapes.

No I/O. ``parse_messages_request`` turns a Messages body into a ``ChatCall`` whose messages are
OpenAI-shaped (the reverse of ``adapters.anthropic``): ``system`` (a string or text blocks)
becomes a system message; ``tool_use`` blocks become an assistant's ``tool_calls``;
``tool_result`` blocks become ``tool`` messages placed before the rest of their user turn
(``is_error`` results are prefixed with ``"Error: "``); images become ``image_url`` parts
(``data:`` URLs for base64); ``thinking`` blocks are dropped (no other vendor can take them);
other blocks (``document`` …) pass through as they are. ``top_p``, ``top_k`` and unknown
non-null parameters go to ``options["extra"]``; ``tool_choice.disable_parallel_tool_use`` is
ignored. It raises only ``WireError``.

Answers: ``render_message`` (a Message), ``AnthropicSSEEncoder`` (the event sequence) and
``render_error`` (Anthropic's error body, same statuses as ``openai_wire.classify_error``).
Usage: ``input_tokens`` excludes cache reads and writes (Anthropic's convention), ours
includes them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modelrouter.adapters.base import StreamChunk, ToolCall
from modelrouter.catalog.pricing import Usage
from modelrouter.gateway.openai_wire import (
    DEFAULT_MAX_MESSAGES,
    MAX_TOKENS_LIMIT,
    ChatCall,
    bad,
    check_messages,
    check_model,
    check_stop,
    classify_error,
    decode_body,
    dumps,
    expect,
    get,
    in_range,
    passthrough,
)

if TYPE_CHECKING:
    from modelrouter.routing.router import RouterResult

__all__ = [
    "AnthropicSSEEncoder", "anthropic_usage", "parse_messages_request", "render_error",
    "render_message",
]

_CONSUMED = frozenset({"model", "messages", "system", "max_tokens", "stop_sequences",
                       "temperature", "top_p", "top_k", "stream", "metadata", "tools",
                       "tool_choice"})
_CHOICES = {"auto": "auto", "any": "required", "none": "none"}
_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use",
         "content_filter": "refusal"}
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
                403: "permission_error", 404: "not_found_error", 413: "request_too_large",
                429: "rate_limit_error", 503: "overloaded_error", 529: "overloaded_error"}


def _text_blocks(blocks: list[Any], at: str) -> list[str]:
    texts = []
    for j, block in enumerate(blocks):
        where = f"{at}[{j}]"
        expect(isinstance(block, dict) and block.get("type") == "text", where, "a text block")
        texts.append(get(block, "text", str, where, req=True))
    return texts


def _system(system: Any) -> list[dict[str, Any]]:
    if system is None or system == "":
        return []
    expect(isinstance(system, str | list), "system", "a string or an array of text blocks")
    if isinstance(system, str):
        return [{"role": "system", "content": system}]
    texts = _text_blocks(system, "system")
    if len(texts) <= 1:
        return [{"role": "system", "content": text} for text in texts]
    return [{"role": "system", "content": [{"type": "text", "text": t} for t in texts]}]


def _image(block: Mapping[str, Any], at: str) -> dict[str, Any]:
    source = get(block, "source", dict, at, req=True)
    kind = source.get("type")
    if kind == "base64":
        media = get(source, "media_type", str, f"{at}.source", req=True)
        data = get(source, "data", str, f"{at}.source", req=True)
        url = f"data:{media};base64,{data}"
    else:
        expect(kind == "url", f"{at}.source.type", "'base64' or 'url'")
        url = get(source, "url", str, f"{at}.source", req=True)
    return {"type": "image_url", "image_url": {"url": url}}


def _result_content(block: Mapping[str, Any], at: str) -> str | list[dict[str, Any]]:
    content = get(block, "content", (str, list), at)
    error_prefix = "Error: " if block.get("is_error") is True else ""
    if not isinstance(content, list):
        return error_prefix + (content or "")
    parts: list[dict[str, Any]] = []
    for j, item in enumerate(content):
        where = f"{at}.content[{j}]"
        expect(isinstance(item, dict), where, "an object")
        if item.get("type") == "image":
            parts.append(_image(item, where))
        else:
            expect(item.get("type") == "text", f"{where}.type", "'text' or 'image'")
            parts.append({"type": "text", "text": get(item, "text", str, where, req=True)})
    if all(part["type"] == "text" for part in parts):
        return error_prefix + "\n".join(part["text"] for part in parts)
    return [{"type": "text", "text": error_prefix}, *parts] if error_prefix else parts


def _turn(message: Any, i: int) -> list[dict[str, Any]]:
    """One Anthropic turn as OpenAI messages (tool results first, as OpenAI wants them)."""
    at = f"messages[{i}]"
    expect(isinstance(message, dict), at, "an object")
    role = message.get("role")
    if role not in ("user", "assistant"):
        shown = repr(role)[:50] if role is not None else "missing"
        raise bad(f"{at}.role must be 'user' or 'assistant' (got {shown})", f"{at}.role",
                  "invalid_role")
    content = get(message, "content", (str, list), at, req=True)
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    parts: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for j, block in enumerate(content):
        where = f"{at}.content[{j}]"
        expect(isinstance(block, dict), where, "an object")
        kind = get(block, "type", str, where, req=True)
        if kind == "text":
            parts.append({"type": "text", "text": get(block, "text", str, where, req=True)})
        elif kind == "image":
            parts.append(_image(block, where))
        elif kind == "tool_use":
            expect(role == "assistant", f"{where}.type", "in an assistant message")
            arguments = json.dumps(get(block, "input", dict, where) or {})
            calls.append({"id": get(block, "id", str, where, req=True), "type": "function",
                          "function": {"name": get(block, "name", str, where, req=True),
                                       "arguments": arguments}})
        elif kind == "tool_result":
            expect(role == "user", f"{where}.type", "in a user message")
            results.append({"role": "tool",
                            "tool_call_id": get(block, "tool_use_id", str, where, req=True),
                            "content": _result_content(block, where)})
        elif kind not in ("thinking", "redacted_thinking"):
            parts.append(dict(block))  # document, search_result …: the provider's business
    if role == "assistant":
        text = "".join(p["text"] for p in parts if p.get("type") == "text")
        turn: dict[str, Any] = {"role": "assistant", "content": text or None}
        if calls:
            turn["tool_calls"] = calls
        return [turn]
    if parts:
        single = len(parts) == 1 and parts[0]["type"] == "text"
        results.append({"role": "user", "content": parts[0]["text"] if single else parts})
    return results


def _tools(tools: list[Any]) -> list[dict[str, Any]]:
    converted: list[dict[str, Any]] = []
    for j, tool in enumerate(tools):
        at = f"tools[{j}]"
        expect(isinstance(tool, dict), at, "an object")
        if tool.get("type") not in (None, "custom"):  # a server tool (web_search_…): as is
            converted.append(dict(tool))
            continue
        name = get(tool, "name", str, at, req=True)
        expect(name, f"{at}.name", "a non-empty string")
        function: dict[str, Any] = {"name": name}
        if (description := get(tool, "description", str, at)) is not None:
            function["description"] = description
        function["parameters"] = get(tool, "input_schema", dict, at, req=True)
        converted.append({"type": "function", "function": function})
    return converted


def _tool_choice(choice: Any) -> str | dict[str, Any] | None:
    if choice is None:
        return None
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind == "tool":
        name = get(choice, "name", str, "tool_choice", req=True)
        return {"type": "function", "function": {"name": name}}
    expect(isinstance(kind, str) and kind in _CHOICES, "tool_choice",
           'an object with "type": "auto", "any", "tool" or "none"')
    return _CHOICES[str(kind)]


def parse_messages_request(body: bytes, *, max_messages: int = DEFAULT_MAX_MESSAGES,
                           max_bytes: int | None = None) -> ChatCall:
    """An Anthropic ``POST /v1/messages`` body as a ``ChatCall``; else ``WireError``."""
    data = decode_body(body, max_bytes=max_bytes)
    model = check_model(data)
    turns = check_messages(data, max_messages)
    max_tokens = in_range(data, "max_tokens", 1, MAX_TOKENS_LIMIT)
    if max_tokens is None:
        raise bad("missing required parameter: max_tokens", "max_tokens",
                  "missing_required_parameter")
    messages = _system(data.get("system"))
    for i, turn in enumerate(turns):
        messages.extend(_turn(turn, i))
    stream = bool(get(data, "stream", bool))
    temperature = in_range(data, "temperature", 0.0, 1.0)
    metadata = get(data, "metadata", dict) or {}
    extra = passthrough(data, _CONSUMED)
    for name, low, high in (("top_p", 0.0, 1.0), ("top_k", 0, MAX_TOKENS_LIMIT)):
        if (value := in_range(data, name, low, high)) is not None:
            extra[name] = value
    options: dict[str, Any] = {
        "max_tokens": max_tokens,
        "temperature": float(temperature) if temperature is not None else None,
        "stop": check_stop(data.get("stop_sequences"), "stop_sequences"),
        "tools": _tools(get(data, "tools", list) or []) or None,
        "tool_choice": _tool_choice(data.get("tool_choice")),
        "extra": extra or None,
    }
    return ChatCall(model, messages, stream, stream,
                    {k: v for k, v in options.items() if v is not None},
                    get(metadata, "user_id", str, "metadata"))


def anthropic_usage(usage: Usage | None) -> dict[str, int]:
    """Anthropic's usage: ``input_tokens`` without the cache reads and writes."""
    usage = usage or Usage()
    return {"input_tokens": usage.input_tokens - usage.cached_input_tokens
            - usage.cache_write_tokens,
            "cache_creation_input_tokens": usage.cache_write_tokens,
            "cache_read_input_tokens": usage.cached_input_tokens,
            "output_tokens": usage.output_tokens}


def tool_input(arguments: str) -> dict[str, Any]:
    """A tool call's JSON arguments as Anthropic's ``input`` object (else ``{"_raw": …}``)."""
    try:
        value = json.loads(arguments) if arguments.strip() else {}
    except (ValueError, RecursionError):
        return {"_raw": arguments}
    return value if isinstance(value, dict) else {"_raw": arguments}


def stop_reason(reason: str | None) -> str:
    return _STOP.get(reason or "stop", "end_turn")


def _tool_block(call: ToolCall) -> dict[str, Any]:
    return {"type": "tool_use", "id": call.id, "name": call.name,
            "input": tool_input(call.arguments)}


def render_message(result: RouterResult, *, model_label: str) -> bytes:
    """A Messages API ``message`` object for a finished answer."""
    response = result.response
    content = [{"type": "text", "text": response.text}] if response.text else []
    content += [_tool_block(call) for call in response.tool_calls]
    return dumps({
        "id": f"msg_{result.request_id}", "type": "message", "role": "assistant",
        "model": model_label, "content": content or [{"type": "text", "text": ""}],
        "stop_reason": stop_reason(response.finish_reason), "stop_sequence": None,
        "usage": anthropic_usage(response.usage),
    })


def _event(name: bytes, payload: bytes) -> bytes:
    return b"event: " + name + b"\ndata: " + payload + b"\n\n"


class AnthropicSSEEncoder:
    """``StreamChunk``s as Messages events: ``message_start`` (on the first ``encode``),
    ``content_block_start/delta/stop`` for text and ``tool_use`` (``input_json_delta``), and
    from ``finish``: ``message_delta`` (stop_reason, usage) and ``message_stop``."""

    def __init__(self, *, message_id: str, model_label: str, input_tokens: int = 0) -> None:
        self.message_id, self.model_label, self.input_tokens = (
            message_id, model_label, input_tokens)
        self.started = self.finished = False
        self.usage: Usage | None = None
        self.reason: str | None = None
        self._open: int | None = None  # the open block's index
        self._open_is_text = False
        self._blocks = 0
        self._tools: dict[int, int] = {}  # our tool-call index → block index

    def start(self) -> bytes:
        if self.started:
            return b""
        self.started = True
        usage = {"input_tokens": self.input_tokens, "output_tokens": 0}
        message: dict[str, Any] = {"id": self.message_id, "type": "message", "role": "assistant",
                   "model": self.model_label, "content": [], "stop_reason": None,
                   "stop_sequence": None, "usage": usage}
        return _event(b"message_start", dumps({"type": "message_start", "message": message}))

    def _close(self) -> bytes:
        if self._open is None:
            return b""
        index, self._open = self._open, None
        return _event(b"content_block_stop",
                      b'{"type":"content_block_stop","index":%d}' % index)

    def _begin(self, block: dict[str, Any], *, text: bool) -> bytes:
        out = self._close()
        self._open, self._open_is_text = self._blocks, text
        self._blocks += 1
        return out + _event(b"content_block_start", dumps(
            {"type": "content_block_start", "index": self._open, "content_block": block}))

    def _delta(self, index: int, delta: bytes) -> bytes:
        return _event(b"content_block_delta", b'{"type":"content_block_delta","index":%d,'
                      b'"delta":%s}' % (index, delta))

    def encode(self, chunk: StreamChunk) -> bytes:
        out = self.start() if not self.started else b""
        if chunk.usage is not None:
            self.usage = chunk.usage
        if chunk.finish_reason is not None:
            self.reason = chunk.finish_reason
        if chunk.text:
            if self._open is None or not self._open_is_text:
                out += self._begin({"type": "text", "text": ""}, text=True)
            assert self._open is not None
            out += self._delta(self._open, b'{"type":"text_delta","text":%s}'
                               % dumps(chunk.text))
        if (index := chunk.tool_call_index) is not None:
            if index not in self._tools:
                self._tools[index] = self._blocks
                out += self._begin({"type": "tool_use", "id": chunk.tool_call_id or (
                    f"toolu_{index}"), "name": chunk.tool_call_name or "", "input": {}},
                    text=False)
            if chunk.tool_call_arguments:
                out += self._delta(self._tools[index], b'{"type":"input_json_delta",'
                                   b'"partial_json":%s}' % dumps(chunk.tool_call_arguments))
        return out

    def finish(self, usage: Usage | None = None, reason: str | None = None) -> bytes:
        """Close the open block, then ``message_delta`` and ``message_stop``."""
        if self.finished:
            return b""
        self.finished = True
        out = self.start() + self._close()
        delta = {"type": "message_delta",
                 "delta": {"stop_reason": stop_reason(reason or self.reason),
                           "stop_sequence": None},
                 "usage": anthropic_usage(usage or self.usage)}
        return (out + _event(b"message_delta", dumps(delta))
                + _event(b"message_stop", b'{"type":"message_stop"}'))

    def error(self, error: BaseException) -> bytes:
        """A mid-stream failure: an ``error`` event (the SDKs raise it)."""
        return _event(b"error", render_error(error)[2])


def render_error(error: BaseException) -> tuple[int, dict[str, str], bytes]:
    """``(status, extra headers, Anthropic error body)``; statuses as for OpenAI."""
    info = classify_error(error)
    kind = _ERROR_TYPES.get(info.status) or (
        "invalid_request_error" if info.status < 500 else "api_error")
    body = {"type": "error", "error": {"type": kind, "message": info.message}}
    return info.status, info.headers(), dumps(body)

