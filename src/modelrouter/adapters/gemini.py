"""Google Gemini API (``generateContent`` / ``streamGenerateContent?alt=sse``).

``extra`` is merged into the top level of the body, except an ``extra["generationConfig"]``
mapping, which is merged into the generation config we build. Each stream event is a whole
response; the stream has no terminal marker, so it counts as complete only when it ends after
a candidate with a ``finishReason`` (or a blocked prompt).
"""

from __future__ import annotations

import json
import mimetypes
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

__all__ = ["GeminiAdapter"]

_FINISH: dict[str, FinishReason] = {
    "STOP": "stop",
    "FINISH_REASON_UNSPECIFIED": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "BLOCKLIST": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "LANGUAGE": "content_filter",
    "MALFORMED_FUNCTION_CALL": "error",
    "OTHER": "error",
}


def _parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}]
    parts: list[dict[str, Any]] = []
    for part in content:
        if part.get("type") == "image_url":
            image = part["image_url"]
            url = image["url"] if isinstance(image, Mapping) else image
            if inline := _http.data_url(url):
                parts.append({"inlineData": {"mimeType": inline[0], "data": inline[1]}})
            else:
                file_data = {"fileUri": url}
                if mime := mimetypes.guess_type(url)[0]:
                    file_data = {"mimeType": mime, **file_data}
                parts.append({"fileData": file_data})
        elif part.get("type") == "text":
            parts.append({"text": part["text"]})
    return parts


def _contents(
    request: ChatRequest, call: _http.Call
) -> tuple[list[str], list[dict[str, Any]]]:
    system: list[str] = []
    contents: list[dict[str, Any]] = []
    tool_names: dict[str, str] = {}  # tool call id → function name, for functionResponse
    for message in request.messages:
        role = message.get("role")
        content = message.get("content")
        if role in ("system", "developer"):
            system.append(_http.text_of(content))
            continue
        if role == "tool":
            name = tool_names.get(message.get("tool_call_id", "")) or message.get("name") or ""
            result = content if isinstance(content, str) else _http.text_of(content)
            parts = [{"functionResponse": {"name": name, "response": {"result": result}}}]
            role = "user"
        elif role == "assistant":
            parts = _parts(content) if content else []
            for item in message.get("tool_calls") or ():
                function = item["function"]
                tool_names[item["id"]] = function["name"]
                parts.append({"functionCall": {
                    "name": function["name"],
                    "args": _http.tool_arguments(function.get("arguments"), call),
                }})
            role = "model"
        else:
            parts = _parts(content)
            role = "user"
        if contents and contents[-1]["role"] == role:  # parallel tool results share one turn
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    return system, contents


def _tool_config(choice: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(choice, Mapping):
        config = {"mode": "ANY", "allowedFunctionNames": [choice["function"]["name"]]}
    else:
        config = {"mode": {"auto": "AUTO", "required": "ANY", "none": "NONE"}.get(choice, "AUTO")}
    return {"functionCallingConfig": config}


def _generation_config(request: ChatRequest) -> dict[str, Any]:
    config: dict[str, Any] = {}
    optional = {
        "maxOutputTokens": request.max_tokens,
        "temperature": request.temperature,
        "topP": request.top_p,
        "stopSequences": list(request.stop) if request.stop else None,
    }
    config.update({key: value for key, value in optional.items() if value is not None})
    response_format = request.response_format or {}
    if response_format.get("type") in ("json_object", "json_schema"):
        config["responseMimeType"] = "application/json"
    if response_format.get("type") == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema")
        if schema is not None:
            config["responseJsonSchema"] = schema
    return config


def _usage(raw: Any) -> Usage:
    if not isinstance(raw, Mapping):
        return Usage()
    thoughts = _http.count(raw.get("thoughtsTokenCount"))
    return _http.usage(
        # Tool-use prompt tokens (search, code execution results) are billed as input.
        _http.count(raw.get("promptTokenCount")) + _http.count(raw.get("toolUsePromptTokenCount")),
        _http.count(raw.get("candidatesTokenCount")) + thoughts,
        cached=raw.get("cachedContentTokenCount"),
        reasoning=thoughts,
    )


class GeminiAdapter:
    """The Gemini wire format at ``{base_url}/v1beta/models/{model}:generateContent``."""

    name = "gemini"

    def __init__(self, client: httpx.AsyncClient, endpoint: Endpoint) -> None:
        self.client = client
        self.endpoint = endpoint

    def _headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        if self.endpoint.api_key:
            headers["x-goog-api-key"] = self.endpoint.api_key
        return {**headers, **self.endpoint.headers}

    def _url(self, request: ChatRequest, method: str) -> str:
        model = request.model.removeprefix("models/")
        return join_url(self.endpoint.base_url, f"v1beta/models/{model}:{method}")

    def _body(self, request: ChatRequest, call: _http.Call) -> dict[str, Any]:
        system, contents = _contents(request, call)
        body: dict[str, Any] = {"contents": contents}
        if system:
            body["systemInstruction"] = {"parts": [{"text": "\n\n".join(system)}]}
        if request.tools:
            body["tools"] = [{"functionDeclarations": [
                _declaration(tool) for tool in request.tools if tool.get("type") == "function"
            ]}]
        if request.tool_choice is not None:
            body["toolConfig"] = _tool_config(request.tool_choice)
        config = _generation_config(request)
        extra = dict(request.extra)
        config.update(extra.pop("generationConfig", None) or {})
        if config:
            body["generationConfig"] = config
        body.update(extra)
        return body

    def _call(self, request: ChatRequest) -> _http.Call:
        return _http.Call(self.endpoint.provider or self.name, request.model, "x-request-id")

    async def send(self, request: ChatRequest, timeouts: Timeouts) -> Response:
        call = self._call(request)
        return await _http.send_json(
            self.client, self._url(request, "generateContent"),
            headers=self._headers(), body=self._body(request, call),
            timeouts=timeouts, call=call, parse=_parse_response,
        )

    async def stream(self, request: ChatRequest, timeouts: Timeouts) -> AsyncIterator[StreamChunk]:
        call = self._call(request)
        async for chunk in _http.stream_sse(
            self.client, self._url(request, "streamGenerateContent") + "?alt=sse",
            headers=self._headers(), body=self._body(request, call),
            timeouts=timeouts, call=call, parse=_parse_stream,
        ):
            yield chunk


def _declaration(tool: Mapping[str, Any]) -> dict[str, Any]:
    function = tool["function"]
    declaration: dict[str, Any] = {"name": function["name"]}
    if function.get("description"):
        declaration["description"] = function["description"]
    if function.get("parameters"):
        declaration["parameters"] = function["parameters"]
    return declaration


def _candidate(data: Mapping[str, Any]) -> tuple[str, list[tuple[str | None, str, str]], Any]:
    """Text, function calls ``(id, name, arguments)`` and finishReason of the first candidate."""
    candidates = data.get("candidates") or []
    if not candidates:
        blocked = (data.get("promptFeedback") or {}).get("blockReason")
        return "", [], "SAFETY" if blocked else None
    candidate = candidates[0]
    text: list[str] = []
    calls: list[tuple[str | None, str, str]] = []
    for part in (candidate.get("content") or {}).get("parts") or ():
        if "functionCall" in part:
            function = part["functionCall"]
            calls.append(
                (function.get("id"), function["name"], json.dumps(function.get("args") or {}))
            )
        elif "text" in part and not part.get("thought"):  # thought summaries are not answer
            text.append(part["text"])
    return "".join(text), calls, candidate.get("finishReason")


def _finish(reason: Any, has_tool_calls: bool) -> FinishReason:
    mapped = _FINISH.get(reason, "error") if isinstance(reason, str) else "stop"
    return "tool_calls" if has_tool_calls and mapped == "stop" else mapped


def _parse_response(data: dict[str, Any], call: _http.Call) -> Response:
    call.request_id = call.request_id or data.get("responseId")
    if not data.get("candidates") and not data.get("promptFeedback"):
        raise call.malformed("no candidates and no promptFeedback", data)
    text, calls, reason = _candidate(data)
    tool_calls = tuple(
        ToolCall(call_id or f"call_{n}", name, arguments)
        for n, (call_id, name, arguments) in enumerate(calls)
    )
    return Response(
        text=text,
        finish_reason=_finish(reason, bool(tool_calls)),
        usage=_usage(data.get("usageMetadata")),
        tool_calls=tool_calls,
        model=data.get("modelVersion"),
        request_id=call.request_id,
    )


async def _parse_stream(
    events: AsyncIterator[_http.SSEEvent], call: _http.Call
) -> AsyncGenerator[StreamChunk, None]:
    reason: Any = None
    usage: Usage | None = None
    model: str | None = None
    tool_count = 0
    async for event in events:
        data = _http.event_json(event.data, call)
        if data.get("error"):
            status = data["error"].get("code") if isinstance(data["error"], dict) else None
            raise _http.status_error(status if isinstance(status, int) else 500, data, {}, call)
        call.request_id = call.request_id or data.get("responseId")
        model = data.get("modelVersion") or model
        if data.get("usageMetadata"):
            usage = _usage(data["usageMetadata"])
        text, calls, finish = _candidate(data)
        if text:
            yield StreamChunk(text=text, model=model, request_id=call.request_id)
        for call_id, name, arguments in calls:
            yield StreamChunk(
                tool_call_index=tool_count, tool_call_id=call_id or f"call_{tool_count}",
                tool_call_name=name, tool_call_arguments=arguments,
                model=model, request_id=call.request_id,
            )
            tool_count += 1
        reason = finish or reason
    if reason is None:
        raise call.ended_early()
    yield StreamChunk(
        finish_reason=_finish(reason, tool_count > 0), usage=usage, model=model,
        request_id=call.request_id,
    )
