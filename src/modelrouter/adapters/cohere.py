"""Cohere Chat v2 (``/v2/chat``).

Cohere cannot force one named tool: a named ``tool_choice`` becomes ``REQUIRED`` with only
that tool offered. Assistant text sent together with tool calls travels as ``tool_plan``.
The stream ends with ``message-end``.
"""

from __future__ import annotations

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

__all__ = ["CohereAdapter"]

_FINISH: dict[str, FinishReason] = {
    "COMPLETE": "stop",
    "STOP_SEQUENCE": "stop",
    "MAX_TOKENS": "length",
    "TOOL_CALL": "tool_calls",
    "ERROR": "error",
    "TIMEOUT": "error",
}


def _message(message: Mapping[str, Any]) -> dict[str, Any]:
    role = message.get("role")
    content = message.get("content")
    if role == "developer":
        role = "system"
    if role == "tool":
        return {"role": "tool", "tool_call_id": message["tool_call_id"], "content": content}
    if role == "assistant" and message.get("tool_calls"):
        converted: dict[str, Any] = {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": item["id"],
                    "type": "function",
                    "function": {
                        "name": item["function"]["name"],
                        "arguments": item["function"].get("arguments") or "{}",
                    },
                }
                for item in message["tool_calls"]
            ],
        }
        if text := _http.text_of(content):
            converted["tool_plan"] = text
        return converted
    return {"role": role, "content": content}


def _usage(raw: Any) -> Usage:
    if not isinstance(raw, Mapping):
        return Usage()
    tokens = raw.get("tokens") or raw.get("billed_units") or {}
    return _http.usage(
        tokens.get("input_tokens"), tokens.get("output_tokens"), cached=raw.get("cached_tokens")
    )


def _finish(reason: Any, has_tool_calls: bool) -> FinishReason:
    mapped = _FINISH.get(reason, "stop") if isinstance(reason, str) else "stop"
    return "tool_calls" if has_tool_calls and mapped == "stop" else mapped


class CohereAdapter:
    """The Chat v2 wire format at ``{base_url}/v2/chat``."""

    name = "cohere"

    def __init__(self, client: httpx.AsyncClient, endpoint: Endpoint) -> None:
        self.client = client
        self.endpoint = endpoint

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json", "accept": "application/json"}
        if self.endpoint.api_key:
            headers["Authorization"] = f"Bearer {self.endpoint.api_key}"
        return {**headers, **self.endpoint.headers}

    def _body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [_message(message) for message in request.messages],
        }
        optional = {
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "p": request.top_p,
            "stop_sequences": list(request.stop) if request.stop else None,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        tools = [dict(tool) for tool in request.tools or ()]
        choice = request.tool_choice
        if isinstance(choice, Mapping):
            wanted = choice["function"]["name"]
            tools = [tool for tool in tools if tool.get("function", {}).get("name") == wanted]
            choice = "required"
        if tools:
            body["tools"] = tools
        if choice in ("required", "none"):
            body["tool_choice"] = str(choice).upper()
        response_format = request.response_format or {}
        if response_format.get("type") == "json_object":
            body["response_format"] = {"type": "json_object"}
        elif response_format.get("type") == "json_schema":
            body["response_format"] = {"type": "json_object"}
            schema = (response_format.get("json_schema") or {}).get("schema")
            if schema is not None:
                body["response_format"]["json_schema"] = schema
        if stream:
            body["stream"] = True
        body.update(request.extra)
        return body

    def _call(self, request: ChatRequest) -> _http.Call:
        return _http.Call(self.endpoint.provider or self.name, request.model, "x-request-id")

    async def send(self, request: ChatRequest, timeouts: Timeouts) -> Response:
        return await _http.send_json(
            self.client, join_url(self.endpoint.base_url, "v2/chat"),
            headers=self._headers(), body=self._body(request, stream=False),
            timeouts=timeouts, call=self._call(request), parse=_parse_response,
        )

    async def stream(self, request: ChatRequest, timeouts: Timeouts) -> AsyncIterator[StreamChunk]:
        headers = {**self._headers(), "accept": "text/event-stream"}
        async for chunk in _http.stream_sse(
            self.client, join_url(self.endpoint.base_url, "v2/chat"),
            headers=headers, body=self._body(request, stream=True),
            timeouts=timeouts, call=self._call(request), parse=_parse_stream,
        ):
            yield chunk


def _parse_response(data: dict[str, Any], call: _http.Call) -> Response:
    call.request_id = call.request_id or data.get("id")
    message = data["message"]
    tool_calls = tuple(
        ToolCall(
            id=str(item.get("id") or f"call_{n}"),
            name=item["function"]["name"],
            arguments=item["function"].get("arguments") or "{}",
        )
        for n, item in enumerate(message.get("tool_calls") or ())
    )
    return Response(
        text=_http.text_of(message.get("content")),
        finish_reason=_finish(data.get("finish_reason"), bool(tool_calls)),
        usage=_usage(data.get("usage")),
        tool_calls=tool_calls,
        request_id=call.request_id,
    )


async def _parse_stream(
    events: AsyncIterator[_http.SSEEvent], call: _http.Call
) -> AsyncGenerator[StreamChunk, None]:
    tool_count = 0
    async for event in events:
        data = _http.event_json(event.data, call)
        kind = data.get("type") or event.event
        delta = data.get("delta") or {}
        message = delta.get("message") or {}
        if kind == "message-start":
            call.request_id = call.request_id or data.get("id")
        elif kind == "content-delta":
            text = (message.get("content") or {}).get("text")
            if text:
                yield StreamChunk(text=text, request_id=call.request_id)
        elif kind in ("tool-call-start", "tool-call-delta"):
            item = message.get("tool_calls") or {}
            function = item.get("function") or {}
            if kind == "tool-call-start":
                tool_count += 1
            yield StreamChunk(
                tool_call_index=int(data.get("index", tool_count - 1)),
                tool_call_id=item.get("id"),
                tool_call_name=function.get("name"),
                tool_call_arguments=function.get("arguments") or "",
                request_id=call.request_id,
            )
        elif kind == "message-end":
            yield StreamChunk(
                finish_reason=_finish(delta.get("finish_reason"), tool_count > 0),
                usage=_usage(delta.get("usage")) if delta.get("usage") else None,
                request_id=call.request_id,
            )
            return
    raise call.ended_early()
