"""Reading the four request wire formats into one ``Prompt``, and the deterministic answer.

Pure functions: no sockets, no clock. The answer depends only on the model, the request and
the model's ``ModelSettings``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from modelrouter.testing._faults import ModelSettings

Wire = Literal["openai", "anthropic", "gemini", "cohere"]
WIRES: tuple[Wire, ...] = ("openai", "anthropic", "gemini", "cohere")

# Keys whose values are ids, roles or binary payloads, not text a tokenizer would see.
_NOT_TEXT = frozenset({
    "role", "type", "id", "tool_call_id", "tool_use_id", "cache_control", "image_url", "source",
    "inlineData", "inline_data", "fileData", "file_data", "input_audio", "thoughtSignature",
})
_CALL_WORD = re.compile(r"\bcall\b", re.IGNORECASE)
_MAX_ECHO_WORDS = 24


class WireError(ValueError):
    """The request is not valid for its wire format (answered with a vendor-shaped 400)."""


def count_tokens(text: str) -> int:
    """The fake's tokenizer: one token per 4 characters, rounded up, at least 1."""
    return max(1, math.ceil(len(text) / 4))


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    schema: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Prompt:
    """What the fake needs from a request, whatever its wire format."""

    wire: Wire
    model: str
    stream: bool
    text: str  # all prompt text (system, messages, tools), for counting tokens
    last_user_text: str
    after_tool_result: bool
    max_tokens: int | None = None
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: str | None = None  # None = auto, "none", "any", or a tool name
    json_mode: bool = False
    json_schema: Mapping[str, Any] | None = None
    include_usage: bool = False


@dataclass(frozen=True, slots=True)
class Answer:
    """The reply in neutral form; ``finish`` is mapped to each vendor's word when rendered."""

    text: str
    finish: Literal["stop", "length", "tool"]
    prompt_tokens: int
    completion_tokens: int  # visible text or tool call, reasoning excluded
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    tool_name: str | None = None
    tool_arguments: str = ""  # JSON text


# -- reading requests ---------------------------------------------------------------------------


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key not in _NOT_TEXT:
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _text_of(content: Any) -> str:
    """The plain text of a message content: a string or a list of text parts/blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part["text"] for part in content
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
            and part.get("type", "text") == "text"
        )
    return ""


def _positive_int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise WireError(f"{name}: must be a positive integer, got {value!r}")
    return value


def _require_model(body: Mapping[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise WireError("model: Field required")
    return model


def _require_list(body: Mapping[str, Any], key: str) -> list[Any]:
    value = body.get(key)
    if not isinstance(value, list) or not value:
        raise WireError(f"{key}: must be a non-empty list")
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise WireError(f"{key}[{index}]: must be an object")
    return value


def _prompt_text(*parts: Any) -> str:
    return "\n".join(text for part in parts for text in _strings(part))


def _tools_text(body: Mapping[str, Any]) -> str | None:
    """Tool definitions count as prompt text, as they do for real tokenizers."""
    return json.dumps(body["tools"], sort_keys=True) if body.get("tools") else None


def _function_tools(tools: Any) -> tuple[ToolSpec, ...]:
    """OpenAI and Cohere v2: ``[{"type": "function", "function": {name, parameters}}]``."""
    found = []
    for tool in tools or []:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            found.append(ToolSpec(function["name"], function.get("parameters") or {}))
    return tuple(found)


def read_openai(body: Mapping[str, Any]) -> Prompt:
    model = _require_model(body)
    messages = _require_list(body, "messages")
    last_user: Mapping[str, Any] = next(
        (m for m in reversed(messages) if m.get("role") == "user"), {}
    )
    choice = body.get("tool_choice")
    tool_choice: str | None = None
    if choice == "none":
        tool_choice = "none"
    elif choice == "required":
        tool_choice = "any"
    elif isinstance(choice, Mapping):
        tool_choice = str((choice.get("function") or {}).get("name") or "any")
    response_format = body.get("response_format") or {}
    kind = response_format.get("type") if isinstance(response_format, Mapping) else None
    schema = (response_format.get("json_schema") or {}).get("schema") if kind == "json_schema" \
        else None
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    return Prompt(
        wire="openai", model=model, stream=bool(body.get("stream")),
        text=_prompt_text(messages, _tools_text(body)),
        last_user_text=_text_of(last_user.get("content")),
        after_tool_result=messages[-1].get("role") == "tool",
        max_tokens=_positive_int(max_tokens, "max_tokens"),
        tools=_function_tools(body.get("tools")), tool_choice=tool_choice,
        json_mode=kind in ("json_object", "json_schema"), json_schema=schema,
        include_usage=bool((body.get("stream_options") or {}).get("include_usage")),
    )


def read_anthropic(body: Mapping[str, Any]) -> Prompt:
    model = _require_model(body)
    messages = _require_list(body, "messages")
    if "max_tokens" not in body:
        raise WireError("max_tokens: Field required")

    def is_tool_result(message: Mapping[str, Any]) -> bool:
        content = message.get("content")
        return isinstance(content, list) and any(
            isinstance(block, Mapping) and block.get("type") == "tool_result" for block in content
        )

    last_user: Mapping[str, Any] = next(
        (m for m in reversed(messages) if m.get("role") == "user" and _text_of(m.get("content"))),
        {},
    )
    tools = tuple(
        ToolSpec(tool["name"], tool.get("input_schema") or {})
        for tool in body.get("tools") or [] if isinstance(tool, Mapping) and "name" in tool
    )
    choice = body.get("tool_choice") or {}
    kind = choice.get("type") if isinstance(choice, Mapping) else None
    tool_choice = {"none": "none", "any": "any"}.get(str(kind))
    if kind == "tool":
        tool_choice = str(choice.get("name") or "any")
    output_format = body.get("output_format") or {}
    schema = output_format.get("schema") if isinstance(output_format, Mapping) else None
    return Prompt(
        wire="anthropic", model=model, stream=bool(body.get("stream")),
        text=_prompt_text(body.get("system"), messages,
                          _tools_text(body)),
        last_user_text=_text_of(last_user.get("content")),
        after_tool_result=is_tool_result(messages[-1]),
        max_tokens=_positive_int(body.get("max_tokens"), "max_tokens"),
        tools=tools, tool_choice=tool_choice,
        json_mode=schema is not None, json_schema=schema,
    )


def read_gemini(body: Mapping[str, Any], model: str, stream: bool) -> Prompt:
    contents = _require_list(body, "contents")

    def parts(content: Mapping[str, Any]) -> list[Any]:
        found = content.get("parts")
        return found if isinstance(found, list) else []

    def text(content: Mapping[str, Any]) -> str:
        return " ".join(
            p["text"] for p in parts(content) if isinstance(p, Mapping) and "text" in p
        )

    last_user: Mapping[str, Any] = next(
        (c for c in reversed(contents) if c.get("role", "user") == "user" and text(c)), {}
    )
    tools = tuple(
        ToolSpec(decl["name"], decl.get("parameters") or decl.get("parametersJsonSchema") or {})
        for tool in body.get("tools") or [] if isinstance(tool, Mapping)
        for decl in tool.get("functionDeclarations") or tool.get("function_declarations") or []
        if isinstance(decl, Mapping) and "name" in decl
    )
    calling = ((body.get("toolConfig") or {}).get("functionCallingConfig") or {})
    mode = str(calling.get("mode", "AUTO")).upper()
    allowed = calling.get("allowedFunctionNames") or []
    tool_choice = {"NONE": "none", "ANY": allowed[0] if allowed else "any"}.get(mode)
    config = body.get("generationConfig") or {}
    schema = config.get("responseSchema") or config.get("responseJsonSchema")
    return Prompt(
        wire="gemini", model=model, stream=stream,
        text=_prompt_text(body.get("systemInstruction"), contents,
                          _tools_text(body)),
        last_user_text=text(last_user) if last_user else "",
        after_tool_result=any(
            isinstance(p, Mapping) and "functionResponse" in p for p in parts(contents[-1])
        ),
        max_tokens=_positive_int(config.get("maxOutputTokens"), "maxOutputTokens"),
        tools=tools, tool_choice=tool_choice,
        json_mode=config.get("responseMimeType") == "application/json", json_schema=schema,
    )


def read_cohere(body: Mapping[str, Any]) -> Prompt:
    model = _require_model(body)
    messages = _require_list(body, "messages")
    last_user: Mapping[str, Any] = next(
        (m for m in reversed(messages) if m.get("role") == "user"), {}
    )
    choice = str(body.get("tool_choice") or "").upper()
    response_format = body.get("response_format") or {}
    kind = response_format.get("type") if isinstance(response_format, Mapping) else None
    return Prompt(
        wire="cohere", model=model, stream=bool(body.get("stream")),
        text=_prompt_text(messages, _tools_text(body)),
        last_user_text=_text_of(last_user.get("content")),
        after_tool_result=messages[-1].get("role") == "tool",
        max_tokens=_positive_int(body.get("max_tokens"), "max_tokens"),
        tools=_function_tools(body.get("tools")),
        tool_choice={"NONE": "none", "REQUIRED": "any"}.get(choice),
        json_mode=kind == "json_object", json_schema=response_format.get("json_schema")
        if isinstance(response_format, Mapping) else None,
    )


# -- the answer -----------------------------------------------------------------------------------


def example_value(schema: Any, depth: int = 0) -> Any:
    """A deterministic value that satisfies a JSON schema's types and required properties."""
    if not isinstance(schema, Mapping) or depth > 8:
        return "example"
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return example_value(schema[key][0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    kind = str(kind).lower() if kind else ("object" if "properties" in schema else "string")
    if kind == "object":
        properties = schema.get("properties") or {}
        return {name: example_value(properties.get(name), depth + 1)
                for name in schema.get("required") or []}
    if kind == "array":
        return [example_value(schema.get("items"), depth + 1)] * int(schema.get("minItems", 0))
    return {"integer": 1, "number": 1, "boolean": True, "null": None}.get(kind, "example")


def _chosen_tool(prompt: Prompt, settings: ModelSettings) -> ToolSpec | None:
    if not prompt.tools or prompt.tool_choice == "none":
        return None
    if prompt.tool_choice not in (None, "any"):
        return next((t for t in prompt.tools if t.name == prompt.tool_choice), prompt.tools[0])
    if prompt.tool_choice == "any":
        return prompt.tools[0]
    if prompt.after_tool_result:
        return None
    if settings.always_tool_call or _CALL_WORD.search(prompt.last_user_text):
        return prompt.tools[0]
    return None


def default_reply(prompt: Prompt) -> str:
    """``"[<model>] <the last user message's first words>"`` (``Hello`` if it has none)."""
    words = prompt.last_user_text.split()[:_MAX_ECHO_WORDS]
    return f"[{prompt.model}] {' '.join(words) or 'Hello'}"


def compose_answer(prompt: Prompt, settings: ModelSettings, auto_cached: int = 0) -> Answer:
    """The fake's reply: a tool call, JSON, or echo text, cut to ``max_tokens``."""
    prompt_tokens = count_tokens(prompt.text)
    cached = settings.cached_tokens if settings.cached_tokens is not None else auto_cached
    cached = min(prompt_tokens, cached)
    reasoning = settings.reasoning_tokens
    tool = _chosen_tool(prompt, settings)
    if tool is not None:
        value = example_value(tool.schema) if tool.schema else {}
        arguments = json.dumps(value if isinstance(value, dict) else {})
        return Answer(text="", finish="tool", tool_name=tool.name, tool_arguments=arguments,
                      completion_tokens=count_tokens(tool.name + arguments),
                      prompt_tokens=prompt_tokens, cached_tokens=cached,
                      reasoning_tokens=reasoning)
    if settings.reply is not None:
        text = settings.reply
    elif prompt.json_mode:
        value = example_value(prompt.json_schema) if prompt.json_schema else None
        text = json.dumps(value if value else {"answer": default_reply(prompt)})
    else:
        text = default_reply(prompt)
    finish: Literal["stop", "length"] = "stop"
    if prompt.max_tokens is not None and count_tokens(text) > prompt.max_tokens:
        text, finish = text[: prompt.max_tokens * 4], "length"
    return Answer(text=text, finish=finish, completion_tokens=count_tokens(text),
                  prompt_tokens=prompt_tokens, cached_tokens=cached, reasoning_tokens=reasoning)


def auto_cached_tokens(prompt_text: str, earlier: list[str]) -> int:
    """Prefix caching as OpenAI does it: a prompt over 1024 tokens sharing a prefix with an
    earlier one reports that prefix, in whole 1024-token blocks, as cached."""
    if count_tokens(prompt_text) <= 1024:
        return 0
    best = 0
    for seen in earlier:
        limit = min(len(seen), len(prompt_text))
        same = next((i for i in range(limit) if seen[i] != prompt_text[i]), limit)
        best = max(best, same)
    return (best // 4) // 1024 * 1024
