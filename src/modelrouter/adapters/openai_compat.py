"""OpenAI Chat Completions, and every server that speaks it (Groq, DeepSeek, Mistral, vLLM, …).

Messages pass through untouched. The stream ends with ``data: [DONE]``; a stream cut before
it raises ``ProviderConnectionError``, even after a ``finish_reason``.
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

__all__ = ["OpenAICompatAdapter"]

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}


def _finish(reason: Any, has_tool_calls: bool) -> FinishReason:
    mapped = _FINISH.get(reason, "stop") if isinstance(reason, str) else "stop"
    # Some compatible servers answer "stop" together with tool calls.
    return "tool_calls" if has_tool_calls and mapped == "stop" else mapped


def _usage(raw: Any) -> Usage:
    if not isinstance(raw, Mapping):
        return Usage()
    prompt = raw.get("prompt_tokens_details") or {}
    completion = raw.get("completion_tokens_details") or {}
    return _http.usage(
        raw.get("prompt_tokens"),
        raw.get("completion_tokens"),
        # DeepSeek reports cache hits as prompt_cache_hit_tokens.
        cached=prompt.get("cached_tokens") or raw.get("prompt_cache_hit_tokens"),
        reasoning=completion.get("reasoning_tokens"),
    )


class OpenAICompatAdapter:
    """The Chat Completions wire format at ``{base_url}/chat/completions``."""

    name = "openai_compat"

    def __init__(self, client: httpx.AsyncClient, endpoint: Endpoint) -> None:
        self.client = client
        self.endpoint = endpoint

    # ------------------------------------------------------------------ request

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.endpoint.api_key:
            headers["Authorization"] = f"Bearer {self.endpoint.api_key}"
        return {**headers, **self.endpoint.headers}

    def _body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [dict(message) for message in request.messages],
        }
        if request.max_tokens is not None:
            key = "max_completion_tokens" if self.endpoint.provider == "openai" else "max_tokens"
            body[key] = request.max_tokens
        optional = {
            "temperature": request.temperature,
            "top_p": request.top_p,
            "stop": list(request.stop) if request.stop is not None else None,
            "tools": [dict(tool) for tool in request.tools] if request.tools else None,
            "tool_choice": request.tool_choice,
            "response_format": request.response_format,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        body.update(request.extra)
        return body

    def _call(self, request: ChatRequest) -> _http.Call:
        return _http.Call(self.endpoint.provider or self.name, request.model, "x-request-id")

    # ------------------------------------------------------------------ send

    async def send(self, request: ChatRequest, timeouts: Timeouts) -> Response:
        return await _http.send_json(
            self.client, join_url(self.endpoint.base_url, "chat/completions"),
            headers=self._headers(), body=self._body(request, stream=False),
            timeouts=timeouts, call=self._call(request), parse=_parse_response,
        )

    # ------------------------------------------------------------------ stream

    async def stream(self, request: ChatRequest, timeouts: Timeouts) -> AsyncIterator[StreamChunk]:
        headers = {**self._headers(), "Accept": "text/event-stream"}
        async for chunk in _http.stream_sse(
            self.client, join_url(self.endpoint.base_url, "chat/completions"),
            headers=headers, body=self._body(request, stream=True),
            timeouts=timeouts, call=self._call(request), parse=_parse_stream,
        ):
            yield chunk


def _parse_response(data: dict[str, Any], call: _http.Call) -> Response:
    if "error" in data and "choices" not in data:
        raise _http.status_error(500, data, {}, call)
    choice = data["choices"][0]
    message = choice.get("message") or {}
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
        finish_reason=_finish(choice.get("finish_reason"), bool(tool_calls)),
        usage=_usage(data.get("usage")),
        tool_calls=tool_calls,
        model=data.get("model"),
        request_id=call.request_id or data.get("id"),
    )


async def _parse_stream(
    events: AsyncIterator[_http.SSEEvent], call: _http.Call
) -> AsyncGenerator[StreamChunk, None]:
    reason: Any = None
    usage: Usage | None = None
    model: str | None = None
    saw_tool_calls = False
    async for event in events:
        if event.data == "[DONE]":
            yield StreamChunk(
                finish_reason=_finish(reason, saw_tool_calls), usage=usage, model=model,
                request_id=call.request_id,
            )
            return
        data = _http.event_json(event.data, call)
        if data.get("error"):
            status = data["error"].get("code") if isinstance(data["error"], dict) else None
            raise _http.status_error(status if isinstance(status, int) else 500, data, {}, call)
        model = data.get("model") or model
        if data.get("usage"):
            usage = _usage(data["usage"])
        for choice in data.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if text := _http.text_of(delta.get("content")):
                yield StreamChunk(text=text, model=model, request_id=call.request_id)
            for item in delta.get("tool_calls") or ():
                saw_tool_calls = True
                function = item.get("function") or {}
                yield StreamChunk(
                    tool_call_index=int(item.get("index", 0)),
                    tool_call_id=item.get("id"),
                    tool_call_name=function.get("name"),
                    tool_call_arguments=function.get("arguments") or "",
                    model=model,
                    request_id=call.request_id,
                )
            reason = choice.get("finish_reason") or reason
    raise call.ended_early()
