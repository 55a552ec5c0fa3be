"""Rendering an ``Answer`` in each vendor's response shape: JSON bodies, SSE streams, errors."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from modelrouter.testing._wire import Answer, Prompt, Wire

_FINISH: dict[Wire, dict[str, str]] = {
    "openai": {"stop": "stop", "length": "length", "tool": "tool_calls"},
    "anthropic": {"stop": "end_turn", "length": "max_tokens", "tool": "tool_use"},
    "gemini": {"stop": "STOP", "length": "MAX_TOKENS", "tool": "STOP"},
    "cohere": {"stop": "COMPLETE", "length": "MAX_TOKENS", "tool": "TOOL_CALL"},
}
# The header each vendor puts its request id in.
REQUEST_ID_HEADER: dict[Wire, str] = {
    "openai": "x-request-id", "anthropic": "request-id", "gemini": "x-request-id",
    "cohere": "x-request-id",
}


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One server-sent event. ``content`` marks text/tool chunks (what ``cut_stream`` counts);
    ``terminal`` marks the closing events a cut stream never sends."""

    data: str
    event: str | None = None
    content: bool = False
    terminal: bool = False

    def encode(self, wire: Wire) -> bytes:
        # Gemini separates events with CRLF, as the real endpoint does.
        end = "\r\n\r\n" if wire == "gemini" else "\n\n"
        head = f"event: {self.event}\n" if self.event else ""
        return f"{head}data: {self.data}{end}".encode()


@dataclass(frozen=True, slots=True)
class Ids:
    """Deterministic ids from the fake's request sequence number."""

    seq: int
    created: int

    @property
    def request(self) -> str:
        return f"req_fake{self.seq:08d}"

    def message(self, wire: Wire) -> str:
        return {
            "openai": f"chatcmpl-fake{self.seq:08d}",
            "anthropic": f"msg_fake{self.seq:08d}",
            "gemini": f"fake{self.seq:08d}",
            "cohere": f"00000000-0000-4000-8000-{self.seq:012d}",
        }[wire]

    def tool(self, wire: Wire) -> str:
        prefix = {"openai": "call_", "anthropic": "toolu_", "gemini": "", "cohere": "call_"}
        return f"{prefix[wire]}fake{self.seq:08d}"


def _pieces(text: str) -> list[str]:
    """Split text into word-sized stream deltas that join back to the text."""
    return re.findall(r"\s*\S+\s*$|\s*\S+", text) or ([text] if text else [])


def _arg_pieces(arguments: str) -> list[str]:
    return [arguments[i:i + 8] for i in range(0, len(arguments), 8)] or [""]


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


# -- usage ----------------------------------------------------------------------------------------


def usage(wire: Wire, answer: Answer) -> dict[str, Any]:
    output = answer.completion_tokens + answer.reasoning_tokens
    if wire == "openai":
        return {
            "prompt_tokens": answer.prompt_tokens,
            "completion_tokens": output,
            "total_tokens": answer.prompt_tokens + output,
            "prompt_tokens_details": {"cached_tokens": answer.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": answer.reasoning_tokens, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0,
            },
        }
    if wire == "anthropic":
        # Anthropic's input_tokens exclude the tokens read from the cache.
        return {
            "input_tokens": answer.prompt_tokens - answer.cached_tokens,
            "output_tokens": output,
            "cache_read_input_tokens": answer.cached_tokens,
            "cache_creation_input_tokens": 0,
        }
    if wire == "gemini":
        meta: dict[str, Any] = {
            "promptTokenCount": answer.prompt_tokens,
            "candidatesTokenCount": answer.completion_tokens,
            "totalTokenCount": answer.prompt_tokens + output,
        }
        if answer.cached_tokens:
            meta["cachedContentTokenCount"] = answer.cached_tokens
        if answer.reasoning_tokens:
            meta["thoughtsTokenCount"] = answer.reasoning_tokens
        return meta
    counts = {"input_tokens": answer.prompt_tokens, "output_tokens": output}
    return {"billed_units": dict(counts), "tokens": dict(counts)}


# -- non-stream bodies ----------------------------------------------------------------------------


def body(prompt: Prompt, answer: Answer, ids: Ids) -> dict[str, Any]:
    wire, finish = prompt.wire, _FINISH[prompt.wire][answer.finish]
    if wire == "openai":
        message: dict[str, Any] = {"role": "assistant", "content": answer.text or None,
                                   "refusal": None}
        if answer.tool_name:
            message["tool_calls"] = [{
                "id": ids.tool(wire), "type": "function",
                "function": {"name": answer.tool_name, "arguments": answer.tool_arguments},
            }]
        return {
            "id": ids.message(wire), "object": "chat.completion", "created": ids.created,
            "model": prompt.model, "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": finish}],
            "usage": usage(wire, answer),
        }
    if wire == "anthropic":
        content: list[dict[str, Any]] = [{"type": "text", "text": answer.text}] \
            if answer.text else []
        if answer.tool_name:
            content.append({"type": "tool_use", "id": ids.tool(wire), "name": answer.tool_name,
                            "input": json.loads(answer.tool_arguments)})
        return {
            "id": ids.message(wire), "type": "message", "role": "assistant",
            "model": prompt.model, "content": content, "stop_reason": finish,
            "stop_sequence": None, "usage": usage(wire, answer),
        }
    if wire == "gemini":
        return _gemini_chunk(prompt, ids, _gemini_parts(answer), finish, usage(wire, answer))
    result: dict[str, Any] = {"id": ids.message(wire), "finish_reason": finish}
    if answer.tool_name:
        result["message"] = {
            "role": "assistant", "tool_plan": f"I will call {answer.tool_name}.",
            "tool_calls": [{"id": ids.tool(wire), "type": "function",
                            "function": {"name": answer.tool_name,
                                         "arguments": answer.tool_arguments}}],
        }
    else:
        result["message"] = {"role": "assistant",
                             "content": [{"type": "text", "text": answer.text}]}
    result["usage"] = usage(wire, answer)
    return result


def _gemini_parts(answer: Answer) -> list[dict[str, Any]]:
    if answer.tool_name:
        return [{"functionCall": {"name": answer.tool_name,
                                  "args": json.loads(answer.tool_arguments)}}]
    return [{"text": answer.text}]


def _gemini_chunk(
    prompt: Prompt, ids: Ids, parts: list[dict[str, Any]], finish: str | None,
    usage_metadata: dict[str, Any] | None,
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    chunk: dict[str, Any] = {"candidates": [candidate]}
    if usage_metadata:
        chunk["usageMetadata"] = usage_metadata
    chunk["modelVersion"] = prompt.model
    chunk["responseId"] = ids.message("gemini")
    return chunk


# -- streams --------------------------------------------------------------------------------------


def stream(prompt: Prompt, answer: Answer, ids: Ids) -> list[SseEvent]:
    return {
        "openai": _openai_stream, "anthropic": _anthropic_stream,
        "gemini": _gemini_stream, "cohere": _cohere_stream,
    }[prompt.wire](prompt, answer, ids)


def _openai_stream(prompt: Prompt, answer: Answer, ids: Ids) -> list[SseEvent]:
    def chunk(delta: dict[str, Any], finish: str | None = None, content: bool = False,
              terminal: bool = False) -> SseEvent:
        data: dict[str, Any] = {
            "id": ids.message("openai"), "object": "chat.completion.chunk",
            "created": ids.created, "model": prompt.model, "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if prompt.include_usage:
            data["usage"] = None
        return SseEvent(_dump(data), content=content, terminal=terminal)

    events = [chunk({"role": "assistant", "content": None if answer.tool_name else ""})]
    if answer.tool_name:
        events.append(chunk({"tool_calls": [{
            "index": 0, "id": ids.tool("openai"), "type": "function",
            "function": {"name": answer.tool_name, "arguments": ""},
        }]}, content=True))
        events += [chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]},
                         content=True) for piece in _arg_pieces(answer.tool_arguments)]
    else:
        events += [chunk({"content": piece}, content=True) for piece in _pieces(answer.text)]
    events.append(chunk({}, _FINISH["openai"][answer.finish], terminal=True))
    if prompt.include_usage:
        final = {
            "id": ids.message("openai"), "object": "chat.completion.chunk",
            "created": ids.created, "model": prompt.model, "system_fingerprint": "fp_fake",
            "choices": [], "usage": usage("openai", answer),
        }
        events.append(SseEvent(_dump(final), terminal=True))
    events.append(SseEvent("[DONE]", terminal=True))
    return events


def _anthropic_stream(prompt: Prompt, answer: Answer, ids: Ids) -> list[SseEvent]:
    def event(name: str, data: dict[str, Any], content: bool = False,
              terminal: bool = False) -> SseEvent:
        return SseEvent(_dump({"type": name, **data}), name, content, terminal)

    start_usage = usage("anthropic", answer) | {"output_tokens": 1}
    events = [event("message_start", {"message": {
        "id": ids.message("anthropic"), "type": "message", "role": "assistant",
        "model": prompt.model, "content": [], "stop_reason": None, "stop_sequence": None,
        "usage": start_usage,
    }})]
    index = 0
    if answer.text:
        events.append(event("content_block_start", {
            "index": index, "content_block": {"type": "text", "text": ""}}))
        events.append(event("ping", {}))
        events += [event("content_block_delta", {
            "index": index, "delta": {"type": "text_delta", "text": piece}}, content=True)
            for piece in _pieces(answer.text)]
        events.append(event("content_block_stop", {"index": index}))
        index += 1
    if answer.tool_name:
        events.append(event("content_block_start", {"index": index, "content_block": {
            "type": "tool_use", "id": ids.tool("anthropic"), "name": answer.tool_name,
            "input": {}}}))
        if index == 0:
            events.append(event("ping", {}))
        events += [event("content_block_delta", {
            "index": index, "delta": {"type": "input_json_delta", "partial_json": piece}},
            content=True) for piece in _arg_pieces(answer.tool_arguments)]
        events.append(event("content_block_stop", {"index": index}))
    events.append(event("message_delta", {
        "delta": {"stop_reason": _FINISH["anthropic"][answer.finish], "stop_sequence": None},
        "usage": {"output_tokens": usage("anthropic", answer)["output_tokens"]},
    }, terminal=True))
    events.append(event("message_stop", {}, terminal=True))
    return events


def _gemini_stream(prompt: Prompt, answer: Answer, ids: Ids) -> list[SseEvent]:
    if answer.tool_name:
        events = [SseEvent(_dump(_gemini_chunk(prompt, ids, _gemini_parts(answer), None, None)),
                           content=True)]
    else:
        events = [SseEvent(_dump(_gemini_chunk(prompt, ids, [{"text": piece}], None, None)),
                           content=True) for piece in _pieces(answer.text)]
    last = _gemini_chunk(prompt, ids, [{"text": ""}], _FINISH["gemini"][answer.finish],
                         usage("gemini", answer))
    events.append(SseEvent(_dump(last), terminal=True))
    return events


def _cohere_stream(prompt: Prompt, answer: Answer, ids: Ids) -> list[SseEvent]:
    def event(name: str, data: dict[str, Any], content: bool = False,
              terminal: bool = False) -> SseEvent:
        return SseEvent(_dump({"type": name, **data}), name, content, terminal)

    events = [event("message-start", {"id": ids.message("cohere"), "delta": {"message": {
        "role": "assistant", "content": [], "tool_plan": "", "tool_calls": [],
        "citations": []}}})]
    if answer.tool_name:
        events.append(event("tool-plan-delta", {
            "delta": {"message": {"tool_plan": f"I will call {answer.tool_name}."}}}))
        events.append(event("tool-call-start", {"index": 0, "delta": {"message": {
            "tool_calls": {"id": ids.tool("cohere"), "type": "function",
                           "function": {"name": answer.tool_name, "arguments": ""}}}}},
            content=True))
        events += [event("tool-call-delta", {"index": 0, "delta": {"message": {
            "tool_calls": {"function": {"arguments": piece}}}}}, content=True)
            for piece in _arg_pieces(answer.tool_arguments)]
        events.append(event("tool-call-end", {"index": 0}))
    else:
        events.append(event("content-start", {"index": 0, "delta": {"message": {
            "content": {"type": "text", "text": ""}}}}))
        events += [event("content-delta", {"index": 0, "delta": {"message": {
            "content": {"text": piece}}}}, content=True) for piece in _pieces(answer.text)]
        events.append(event("content-end", {"index": 0}))
    events.append(event("message-end", {"delta": {
        "finish_reason": _FINISH["cohere"][answer.finish], "usage": usage("cohere", answer)}},
        terminal=True))
    return events


# -- errors ---------------------------------------------------------------------------------------

_OPENAI_TYPES = {400: "invalid_request_error", 401: "invalid_request_error",
                 403: "permission_error", 404: "invalid_request_error", 429: "requests"}
_OPENAI_CODES = {401: "invalid_api_key", 404: "not_found", 429: "rate_limit_exceeded"}
_ANTHROPIC_TYPES = {400: "invalid_request_error", 401: "authentication_error",
                    403: "permission_error", 404: "not_found_error", 413: "request_too_large",
                    429: "rate_limit_error", 500: "api_error", 529: "overloaded_error"}
_GOOGLE_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                  404: "NOT_FOUND", 409: "ABORTED", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                  501: "UNIMPLEMENTED", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
_MESSAGES = {401: "Invalid API key (fake provider).",
             429: "Rate limit reached (fake provider). Please try again later.",
             503: "The service is temporarily overloaded (fake provider).",
             529: "Overloaded (fake provider)."}


def default_message(status: int) -> str:
    if status in _MESSAGES:
        return _MESSAGES[status]
    if status >= 500:
        return f"The server had an error processing your request (fake provider, {status})."
    return f"Request failed with status {status} (fake provider)."


def error_body(wire: Wire, status: int, message: str | None = None) -> dict[str, Any]:
    """The vendor's own error shape for ``status``."""
    text = message or default_message(status)
    if wire == "openai":
        kind = _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request")
        return {"error": {"message": text, "type": kind, "param": None,
                          "code": _OPENAI_CODES.get(status)}}
    if wire == "anthropic":
        kind = _ANTHROPIC_TYPES.get(status, "api_error" if status >= 500 else
                                    "invalid_request_error")
        return {"type": "error", "error": {"type": kind, "message": text}}
    if wire == "gemini":
        return {"error": {"code": status, "message": text,
                          "status": _GOOGLE_STATUS.get(status, "UNKNOWN")}}
    return {"id": "00000000-0000-4000-8000-000000000000", "message": text}
