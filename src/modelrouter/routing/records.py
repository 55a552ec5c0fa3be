"""What every attempt leaves behind, and the sink it is handed to (the ledger stores it)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

from modelrouter.catalog.pricing import Usage, format_usd

Outcome = Literal["success", "error", "validation_failed", "stream_cut"]


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One call to one model: the ledger's row (DESIGN §4)."""

    request_id: str
    time: datetime  # UTC, when the attempt started
    model: str
    provider: str
    tier: str
    outcome: Outcome
    fallback_depth: int  # 0 for the first model tried, +1 per model after it
    free: bool
    usage: Usage | None = None
    cost_usd: Decimal | None = None  # None: unknown (no price, or no usage reported)
    latency_s: float = 0.0
    ttft_s: float | None = None
    error_class: str | None = None
    error_message: str | None = None
    retry: int = 0  # retries of this model before this attempt
    streamed: bool = False
    key: str | None = None
    task: str | None = None
    cache_hit: bool = False  # answered from the response cache: cost 0, saved_usd set
    saved_usd: Decimal | None = None  # what a cache hit (or a free model) saved

    @property
    def success(self) -> bool:
        return self.outcome == "success"

    def to_dict(self) -> dict[str, Any]:
        usage = self.usage
        return {
            "request_id": self.request_id,
            "time": self.time.isoformat(),
            "model": self.model,
            "provider": self.provider,
            "tier": self.tier,
            "outcome": self.outcome,
            "fallback_depth": self.fallback_depth,
            "free": self.free,
            "input_tokens": usage.input_tokens if usage else None,
            "output_tokens": usage.output_tokens if usage else None,
            "cached_tokens": usage.cached_input_tokens if usage else None,
            "reasoning_tokens": usage.reasoning_tokens if usage else None,
            "cost_usd": None if self.cost_usd is None else format_usd(self.cost_usd),
            "latency_ms": round(self.latency_s * 1000, 1),
            "ttft_ms": None if self.ttft_s is None else round(self.ttft_s * 1000, 1),
            "error_class": self.error_class,
            "error_message": self.error_message,
            "retry": self.retry,
            "streamed": self.streamed,
            "key": self.key,
            "task": self.task,
            "cache_hit": self.cache_hit,
            "saved_usd": None if self.saved_usd is None else format_usd(self.saved_usd),
        }


class UsageSink(Protocol):
    """Receives every attempt, on the request path: keep it fast. The SQLite ledger commits
    each row before returning (~35 µs), so an answer the caller saw is never lost to a crash."""

    def record(self, record: AttemptRecord) -> None: ...


@dataclass
class MemorySink:
    """Keeps records in memory: for tests, the demo and short scripts."""

    records: list[AttemptRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, record: AttemptRecord) -> None:
        with self._lock:
            self.records.append(record)

    def for_request(self, request_id: str) -> list[AttemptRecord]:
        return [r for r in self.records if r.request_id == request_id]


class NullSink:
    def record(self, record: AttemptRecord) -> None:
        return None
