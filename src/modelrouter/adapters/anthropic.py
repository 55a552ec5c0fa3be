"""Anthropic Messages API (``/v1/messages``), translated from our OpenAI-shaped request.

Anthropic has no JSON mode: for ``response_format`` json_object / json_schema we append a
system instruction asking for a single JSON value (with the schema, if any); validate the
answer with a quality validator when it matters. ``max_tokens`` is required by Anthropic and
defaults to 4096. The stream ends with ``message_stop``; an ``error`` event raises our error.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any

import httpx

from modelrouter.adapters import _http
from modelrouter.adapters.base import (
    ChatRequest,
    Endpoint,
    FinishReason,
    Response,
    StreamChunk,
    Timeouts,
    ToolCall,
    Usage,
    join_url,
)

__all__ = ["AnthropicAdapter"]

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096
JSON_INSTRUCTION = "Respond with a single JSON object only, with no text before or after it."

_FINISH: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

# Error types of Anthropic's error events → the HTTP status they stand for.
_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


def _blocks(content: Any) -> list[dict[str, Any]]:
    """OpenAI content (a string or parts) as Anthropic content blocks."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[dict[str, Any]] = []
    for part in content:
        if part.get("type") == "image_url":
            url = part["image_url"]["url"] if isinstance(part["image_url"], Mapping) else (
                part["image_url"]
            )
            if inline := _http.data_url(url):
                source = {"type": "base64", "media_type": inline[0], "data": inline[1]}
            else:
                source = {"type": "url", "url": url}
            blocks.append({"type": "image", "source": source})
        elif part.get("type") == "text":
            blocks.append({"type": "text", "text": part["text"]})
        else:  # already an Anthropic block (document, tool_result, …)
            blocks.append(dict(part))
    return blocks


def _messages(
    request: ChatRequest, call: _http.Call
) -> tuple[list[str], list[dict[str, Any]]]:
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for message in request.messages:
        role = message.get("role")
        content = message.get("content")
        if role in ("system", "developer"):
            system.append(_http.text_of(content))
            continue
        plain = isinstance(content, str) and role != "tool" and not message.get("tool_calls")
        if role == "tool":
            result = content if isinstance(content, str) else _blocks(content)
            blocks = [{
                "type": "tool_result", "tool_use_id": message["tool_call_id"], "content": result,
            }]
            role = "user"
        else:
            blocks = _blocks(content) + [
                {
                    "type": "tool_use",
                    "id": item["id"],
                    "name": item["function"]["name"],
                    "input": _http.tool_arguments(item["function"].get("arguments"), call),
                }
                for item in message.get("tool_calls") or ()
            ]
        if turns and turns[-1]["role"] == role:  # Anthropic wants alternating turns
            previous = turns[-1]["content"]
            turns[-1]["content"] = _blocks(previous) if isinstance(previous, str) else previous
            turns[-1]["content"] += blocks
        else:
            turns.append({"role": role, "content": content if plain else blocks})
    return system, turns


def _tool_choice(choice: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(choice, Mapping):
        return {"type": "tool", "name": choice["function"]["name"]}
    return {"auto": {"type": "auto"}, "required": {"type": "any"}}.get(choice, {"type": choice})


def _json_instruction(response_format: Mapping[str, Any]) -> str | None:
    kind = response_format.get("type")
    if kind == "json_object":
        return JSON_INSTRUCTION
    if kind == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema")
        if schema is None:
            return JSON_INSTRUCTION
        return f"{JSON_INSTRUCTION} It must conform to this JSON Schema: {json.dumps(schema)}"
    return None


def _usage(raw: Mapping[str, Any]) -> Usage:
    read = _http.count(raw.get("cache_read_input_tokens"))
    write = _http.count(raw.get("cache_creation_input_tokens"))
    return _http.usage(
        _http.count(raw.get("input_tokens")) + read + write,
        raw.get("output_tokens"),
        cached=read,
        cache_write=write,
    )


class AnthropicAdapter:
    """The Messages wire format at ``{base_url}/v1/messages``."""

    name = "anthropic"

    def __init__(self, client: httpx.AsyncClient, endpoint: Endpoint) -> None:
        self.client = client
        self.endpoint = endpoint

    def _headers(self) -> dict[str, str]:
        headers = {"anthropic-version": API_VERSION, "content-type": "application/json"}
        if self.endpoint.api_key:
            headers["x-api-key"] = self.endpoint.api_key
        return {**headers, **self.endpoint.headers}

    def _body(self, request: ChatRequest, call: _http.Call, *, stream: bool) -> dict[str, Any]:
        system, messages = _messages(request, call)
        if request.response_format and (extra := _json_instruction(request.response_format)):
            system.append(extra)
        body: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens if request.max_tokens is not None else (
                DEFAULT_MAX_TOKENS
            ),
            "messages": messages,
        }
        if system:
            body["system"] = "\n\n".join(part for part in system if part)
        optional = {
            "temperature": request.temperature,
            "top_p": request.top_p,
            "stop_sequences": list(request.stop) if request.stop else None,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        if request.tools:
            body["tools"] = [_tool(tool) for tool in request.tools]
        if request.tool_choice is not None:
            body["tool_choice"] = _tool_choice(request.tool_choice)
        if stream:
            body["stream"] = True
        body.update(request.extra)
        return body

    def _call(self, request: ChatRequest) -> _http.Call:
        return _http.Call(self.endpoint.provider or self.name, request.model, "request-id")

    async def send(self, request: ChatRequest, timeouts: Timeouts) -> Response:
        call = self._call(request)
        return await _http.send_json(
            self.client, join_url(self.endpoint.base_url, "v1/messages"),
            headers=self._headers(), body=self._body(request, call, stream=False),
            timeouts=timeouts, call=call, parse=_parse_response,
        )

    async def stream(self, request: ChatRequest, timeouts: Timeouts) -> AsyncIterator[StreamChunk]:
        call = self._call(request)
        async for chunk in _http.stream_sse(
            self.client, join_url(self.endpoint.base_url, "v1/messages"),
            headers=self._headers(), body=self._body(request, call, stream=True),
            timeouts=timeouts, call=call, parse=_parse_stream,
        ):
            yield chunk


def _tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    if tool.get("type") != "function":  # already Anthropic-shaped (or a server tool)
        return dict(tool)
    function = tool["function"]
    converted: dict[str, Any] = {"name": function["name"]}
    if function.get("description"):
        converted["description"] = function["description"]
    converted["input_schema"] = function.get("parameters") or {"type": "object", "properties": {}}
    return converted


def _parse_response(data: dict[str, Any], call: _http.Call) -> Response:
    if data.get("type") == "error":
        raise _stream_error(data, call)
    text: list[str] = []
    tool_calls: list[ToolCall] = []
    for block in data["content"]:
        if block.get("type") == "text":
            text.append(block["text"])
        elif block.get("type") == "tool_use":
            tool_calls.append(ToolCall(block["id"], block["name"], json.dumps(block["input"])))
    return Response(
        text="".join(text),
        finish_reason=_FINISH.get(data.get("stop_reason") or "", "stop"),
        usage=_usage(data.get("usage") or {}),
        tool_calls=tuple(tool_calls),
        model=data.get("model"),
        request_id=call.request_id or data.get("id"),
    )


def _stream_error(data: Mapping[str, Any], call: _http.Call) -> Exception:
    kind = str((data.get("error") or {}).get("type"))
    return _http.status_error(_ERROR_STATUS.get(kind, 500), dict(data), {}, call)


async def _parse_stream(
    events: AsyncIterator[_http.SSEEvent], call: _http.Call
) -> AsyncGenerator[StreamChunk, None]:
    counts: dict[str, Any] = {}
    reason: FinishReason = "stop"
    model: str | None = None
    tools: dict[int, int] = {}  # Anthropic block index → our tool-call index
    tool_has_arguments: dict[int, bool] = {}
    async for event in events:
        data = _http.event_json(event.data, call)
        kind = data.get("type") or event.event
        if kind == "error":
            raise _stream_error(data, call)
        if kind == "message_start":
            message = data["message"]
            model = message.get("model")
            call.request_id = call.request_id or message.get("id")
            counts.update(message.get("usage") or {})
        elif kind == "content_block_start":
            block = data["content_block"]
            if block.get("type") == "tool_use":
                tools[data["index"]] = index = len(tools)
                tool_has_arguments[index] = False
                yield StreamChunk(
                    tool_call_index=index, tool_call_id=block["id"], tool_call_name=block["name"],
                    model=model, request_id=call.request_id,
                )
            elif block.get("type") == "text" and block.get("text"):
                yield StreamChunk(text=block["text"], model=model, request_id=call.request_id)
        elif kind == "content_block_delta":
            delta = data["delta"]
            if delta.get("type") == "text_delta" and delta.get("text"):
                yield StreamChunk(text=delta["text"], model=model, request_id=call.request_id)
            elif delta.get("type") == "input_json_delta" and delta.get("partial_json"):
                index = tools[data["index"]]
                tool_has_arguments[index] = True
                yield StreamChunk(
                    tool_call_index=index, tool_call_arguments=delta["partial_json"],
                    model=model, request_id=call.request_id,
                )
        elif kind == "content_block_stop" and data.get("index") in tools:
            index = tools[data["index"]]
            if not tool_has_arguments[index]:  # no input: OpenAI's shape would be "{}"
                yield StreamChunk(
                    tool_call_index=index, tool_call_arguments="{}",
                    model=model, request_id=call.request_id,
                )
        elif kind == "message_delta":
            reason = _FINISH.get((data.get("delta") or {}).get("stop_reason") or "", "stop")
            counts.update({k: v for k, v in (data.get("usage") or {}).items() if v is not None})
        elif kind == "message_stop":
            yield StreamChunk(
                finish_reason=reason, usage=_usage(counts), model=model,
                request_id=call.request_id,
            )
            return
    raise call.ended_early()
