"""The one internal request/response shape; adapters translate it to and from wire formats.

Messages are OpenAI-shaped dicts (``{"role": ..., "content": ...}``, tool calls and tool
results as in Chat Completions), so the router never sees a vendor's wire format.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from modelrouter.catalog.pricing import Usage

FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "error"]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Separate limits, in seconds: connecting, waiting for the first token, the whole call."""

    connect_s: float = 5.0
    first_token_s: float = 30.0
    total_s: float = 60.0


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """What the router asks of a model. ``model`` is the provider's own api identifier."""

    model: str
    messages: Sequence[Mapping[str, Any]]
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: Sequence[str] | None = None
    tools: Sequence[Mapping[str, Any]] | None = None
    tool_choice: str | Mapping[str, Any] | None = None
    # OpenAI's shape: {"type": "json_object"} or {"type": "json_schema", "json_schema": {...}}
    response_format: Mapping[str, Any] | None = None
    # Vendor-specific fields passed through untouched (e.g. reasoning_effort, top_k).
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as in OpenAI's tool calls

    def to_openai(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True, slots=True)
class Response:
    """A finished answer, whatever the wire format."""

    text: str
    finish_reason: FinishReason
    usage: Usage
    tool_calls: tuple[ToolCall, ...] = ()
    model: str | None = None  # as reported by the provider
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class StreamChunk:
    """One piece of a stream: text, a tool-call fragment, or the closing usage/finish.

    ``tool_call_index`` groups fragments of one tool call; its ``id``/``name`` arrive on the
    first fragment, ``arguments`` accumulate across fragments.
    """

    text: str = ""
    tool_call_index: int | None = None
    tool_call_id: str | None = None
    tool_call_name: str | None = None
    tool_call_arguments: str = ""
    finish_reason: FinishReason | None = None
    usage: Usage | None = None
    model: str | None = None
    request_id: str | None = None

    @property
    def has_content(self) -> bool:
        """True once something the caller can see (text or a tool call) is in the chunk."""
        return bool(self.text) or self.tool_call_index is not None


class Adapter(Protocol):
    """A wire format: one async ``send`` and one async ``stream``."""

    name: str

    async def send(self, request: ChatRequest, timeouts: Timeouts) -> Response: ...

    def stream(self, request: ChatRequest, timeouts: Timeouts) -> AsyncIterator[StreamChunk]: ...


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and how to reach a provider: base URL, key and extra headers."""

    base_url: str
    api_key: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    provider: str = ""


def join_url(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + "/" + path.lstrip("/")


__all__ = [
    "Adapter",
    "ChatRequest",
    "Endpoint",
    "FinishReason",
    "Response",
    "StreamChunk",
    "Timeouts",
    "ToolCall",
    "Usage",
    "join_url",
]
