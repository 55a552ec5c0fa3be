"""Per-request state shared by the router's attempts, and the pieces the stream path shares.

Internal to ``modelrouter.routing``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from modelrouter.adapters.base import Adapter, ChatRequest, StreamChunk, Timeouts
from modelrouter.errors import AllProvidersFailedError, ProviderConnectionError, RouterError
from modelrouter.routing.records import AttemptRecord
from modelrouter.routing.selection import Decision
from modelrouter.routing.tokens import count_message_tokens
from modelrouter.routing.validators import Validator


@dataclass
class _Request:
    """Per-request state shared by the attempts."""

    request_id: str
    messages: Sequence[Mapping[str, Any]]
    options: dict[str, Any]
    prompt_tokens: int
    key: str | None
    task: str | None
    validators: Sequence[Validator]
    attempts: list[AttemptRecord] = field(default_factory=list)
    failures: list[tuple[str, BaseException]] = field(default_factory=list)
    depth: int = 0
    scopes: list[str] = field(default_factory=lambda: ["global"])  # budget scopes

    @classmethod
    def new(
        cls, request_id: str | None, messages: Sequence[Mapping[str, Any]], *,
        key: str | None, task: str | None, validators: Sequence[Validator],
        scopes: Sequence[str] = ("global",),
        tools: Sequence[Mapping[str, Any]] | None, extra: Mapping[str, Any] | None,
        **options: Any,
    ) -> _Request:
        return cls(
            request_id=request_id or f"req_{uuid.uuid4().hex[:24]}",
            messages=messages,
            options={**options, "tools": tools, "extra": dict(extra or {})},
            prompt_tokens=count_message_tokens(messages, tools),
            key=key,
            task=task,
            validators=validators,
            scopes=list(scopes),
        )



class _Fallback(Exception):
    """Internal: this model is done for this request; try the next one."""


@dataclass
class _OpenStream:
    """A stream that has produced its first token: from here on, no fallback."""

    buffered: list[StreamChunk]
    chunks: AsyncIterator[StreamChunk]
    started: float = 0.0
    started_wall: datetime = field(default_factory=lambda: datetime.now(UTC))
    ttft_s: float = 0.0
    depth: int = 0
    retry: int = 0
    estimate: int = 0
    limit: Any = None
    held: Any = None  # the budget reservation to settle when the stream ends


async def _open_stream(adapter: Adapter, request: ChatRequest, timeouts: Timeouts
                       ) -> _OpenStream:
    chunks = adapter.stream(request, timeouts)
    buffered: list[StreamChunk] = []
    async for chunk in chunks:
        buffered.append(chunk)
        if chunk.has_content or chunk.finish_reason is not None:
            return _OpenStream(buffered, chunks)
    raise ProviderConnectionError("stream ended before its first token", model=request.model)



def _all_failed(state: _Request, decision: Decision) -> AllProvidersFailedError:
    if state.failures:
        return AllProvidersFailedError(list(state.failures))
    return AllProvidersFailedError(
        [(r.model_id, RouterError(r.reason)) for r in decision.rejected],
        summary=f"no model in tier {decision.tier!r} fits this request",
    )
