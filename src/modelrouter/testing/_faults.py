"""Scripted faults and per-model settings for the fake provider: plain frozen data."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, Literal, get_args

FaultKind = Literal[
    "ok",
    "rate_limit",
    "server_error",
    "status",
    "connection_reset",
    "hang",
    "slow_first_token",
    "cut_stream",
    "malformed_json",
    "wrong_content_type",
]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)


@dataclass(frozen=True, slots=True)
class Fault:
    """What the fake does with one request instead of (or before) answering it normally.

    Build one with the classmethods (``Fault.rate_limit(retry_after=2)``), never by hand;
    ``Fault.from_dict`` / ``to_dict`` are the JSON shape used by the ``/_fake/script`` API,
    e.g. ``{"kind": "rate_limit", "retry_after": 2}``.
    """

    kind: FaultKind = "ok"
    status_code: int | None = None
    body: Any = None  # str or JSON-able object sent as is; None means the vendor's error shape
    headers: tuple[tuple[str, str], ...] = ()
    retry_after: float | None = None
    retry_after_ms: int | None = None
    http_date: bool = False
    seconds: float = 0.0
    after_chunks: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(FAULT_KINDS)}")
        if isinstance(self.headers, Mapping):
            object.__setattr__(self, "headers", tuple(self.headers.items()))
        elif not isinstance(self.headers, tuple):
            object.__setattr__(self, "headers", tuple(tuple(pair) for pair in self.headers))
        if self.status_code is not None and not 100 <= int(self.status_code) <= 599:
            raise ValueError(f"status_code must be 100..599, got {self.status_code}")
        for name in ("retry_after", "retry_after_ms", "seconds", "after_chunks"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")

    # -- builders ------------------------------------------------------------------------------

    @classmethod
    def ok(cls) -> Fault:
        """Answer normally (a placeholder in a script: ``[Fault.rate_limit(), Fault.ok()]``)."""
        return cls("ok")

    @classmethod
    def rate_limit(
        cls,
        retry_after: float | None = None,
        retry_after_ms: int | None = None,
        http_date: bool = False,
    ) -> Fault:
        """429 with a vendor-shaped body; ``retry-after`` in seconds (or as an HTTP date when
        ``http_date``, ``retry_after`` seconds from now, 1 s if unset) and/or ``retry-after-ms``."""
        return cls("rate_limit", 429, retry_after=retry_after, retry_after_ms=retry_after_ms,
                   http_date=http_date)

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        """A 5xx (500, 502, 503, 529…) with the vendor's error body."""
        return cls("server_error", status)

    @classmethod
    def status(
        cls, code: int, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> Fault:
        """Any status; ``body`` (str or JSON-able) replaces the vendor's error body."""
        return cls("status", code, body=body, headers=tuple((headers or {}).items()))

    @classmethod
    def connection_reset(cls) -> Fault:
        """Read the request, then close the socket with an RST and no response."""
        return cls("connection_reset")

    @classmethod
    def hang(cls, seconds: float) -> Fault:
        """Read the request and send nothing for ``seconds`` (or until the fake stops), then
        answer normally — a client with a shorter timeout sees a read timeout."""
        return cls("hang", seconds=seconds)

    @classmethod
    def slow_first_token(cls, seconds: float) -> Fault:
        """Send the status and headers, then wait ``seconds`` before the first byte of body."""
        return cls("slow_first_token", seconds=seconds)

    @classmethod
    def cut_stream(cls, after_chunks: int) -> Fault:
        """Send ``after_chunks`` content chunks, then close without the terminal event (a
        non-stream answer is cut half way through its body)."""
        return cls("cut_stream", after_chunks=after_chunks)

    @classmethod
    def malformed_json(cls) -> Fault:
        """200 whose JSON is truncated (``application/json``; for a stream, the first content
        event's data is truncated)."""
        return cls("malformed_json")

    @classmethod
    def wrong_content_type(cls) -> Fault:
        """200 with a ``text/html`` page, as a misconfigured proxy would send."""
        return cls("wrong_content_type")

    # -- JSON shape ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The non-default fields, e.g. ``{"kind": "hang", "seconds": 5}``."""
        data: dict[str, Any] = {"kind": self.kind}
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if spec.name != "kind" and value != spec.default:
                data[spec.name] = dict(value) if spec.name == "headers" else value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fault:
        """Inverse of ``to_dict``; ``status`` is accepted for ``status_code``."""
        values = dict(data)
        if "status" in values:
            values["status_code"] = values.pop("status")
        known = {spec.name for spec in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(unknown)}")
        if "kind" not in values:
            raise ValueError("a fault needs a 'kind'")
        if values["kind"] in ("rate_limit",) and "status_code" not in values:
            values["status_code"] = 429
        if values["kind"] == "server_error" and "status_code" not in values:
            values["status_code"] = 500
        if values["kind"] == "status" and "status_code" not in values:
            raise ValueError("a 'status' fault needs 'status_code'")
        return cls(**values)

    def retry_headers(self, now: float | None = None) -> list[tuple[str, str]]:
        """The Retry-After headers a rate-limit fault sends."""
        headers: list[tuple[str, str]] = []
        if self.http_date:
            wait = 1.0 if self.retry_after is None else self.retry_after
            # HTTP dates have 1 s resolution: round up so a client never waits less than asked.
            when = math.ceil((time.time() if now is None else now) + wait)
            headers.append(("retry-after", formatdate(when, usegmt=True)))
        elif self.retry_after is not None:
            value = self.retry_after
            headers.append(("retry-after", str(int(value)) if value == int(value) else str(value)))
        if self.retry_after_ms is not None:
            headers.append(("retry-after-ms", str(int(self.retry_after_ms))))
        return headers


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """How the fake answers one model (or every model, under ``"*"``).

    ``reply`` forces the exact text (still cut by max_tokens); ``cached_tokens`` fixes the
    cached prompt tokens reported (default: automatic prefix caching in 1024-token steps);
    ``reasoning_tokens`` are added to the usage (OpenAI reasoning, Gemini thoughts, output for
    Anthropic and Cohere); ``always_tool_call`` calls the first tool whenever tools are given.
    """

    reply: str | None = None
    cached_tokens: int | None = None
    reasoning_tokens: int = 0
    always_tool_call: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelSettings:
        known = {spec.name for spec in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(unknown)}")
        return cls(**data)
