"""``ResponseCache``: namespaces with a TTL and a size, counted hits and misses, stream replay.

The router builds a key with ``modelrouter.cache.keys.cache_key``, asks ``get`` before calling a
model and ``put`` after a successful answer. Errors, answers that ended in ``error`` or
``content_filter`` and streams cut before their final chunk are never stored. A cache that is
unreachable (Redis down, SQLite locked) is a miss, never a failed request.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from modelrouter.adapters.base import FinishReason, Response, StreamChunk, ToolCall
from modelrouter.cache.backends import CacheBackend, Counts, check_namespace, open_backend
from modelrouter.cache.keys import cacheable
from modelrouter.catalog.pricing import Usage
from modelrouter.errors import PricingError

if TYPE_CHECKING:
    from modelrouter.config.schema import CacheSettings

log = logging.getLogger("modelrouter.cache")

PAYLOAD_VERSION = 1
DEFAULT_NAMESPACE = "default"
# Finish reasons whose answer is incomplete or a failure: never reused.
UNCACHEABLE_FINISH: frozenset[str] = frozenset({"error", "content_filter"})


@dataclass(frozen=True, slots=True)
class Namespace:
    """A partition of the cache with its own lifetime and size.

    ``ttl_s`` None: entries never expire (the size limit still evicts them).
    ``cache_nondeterministic``: also cache sampling requests without a seed, and ``n`` > 1.
    """

    name: str
    ttl_s: float | None = 3600.0
    max_entries: int = 10_000
    cache_nondeterministic: bool = False

    def __post_init__(self) -> None:
        check_namespace(self.name)
        if self.ttl_s is not None and not self.ttl_s > 0:
            raise ValueError(f"cache namespace {self.name!r}: ttl_s must be > 0 or None")
        if self.max_entries < 1:
            raise ValueError(f"cache namespace {self.name!r}: max_entries must be at least 1")


# The seed's CACHE_CONFIG: one hour, ten thousand answers.
DEFAULT_NAMESPACES: Mapping[str, Namespace] = {
    DEFAULT_NAMESPACE: Namespace(DEFAULT_NAMESPACE, ttl_s=3600.0, max_entries=10_000),
}


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """A stored answer: the response, the model id that produced it, what it cost, when."""

    response: Response
    model: str  # canonical model id, e.g. "openai:gpt-5"
    cost_usd: Decimal | None  # what the original call cost; None if unknown
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class NamespaceStats:
    name: str
    hits: int
    misses: int
    entries: int
    ttl_s: float | None = None  # None here also when the namespace is not configured
    max_entries: int | None = None

    @property
    def hit_rate(self) -> float | None:
        """Hits over lookups; None before the first lookup."""
        lookups = self.hits + self.misses
        return None if lookups == 0 else self.hits / lookups

    def to_dict(self) -> dict[str, Any]:
        return {
            "hits": self.hits,
            "misses": self.misses,
            "entries": self.entries,
            "hit_rate": None if self.hit_rate is None else round(self.hit_rate, 4),
            "ttl_s": self.ttl_s,
            "max_entries": self.max_entries,
        }


# --------------------------------------------------------------------------- serialisation


def dump_answer(answer: CachedAnswer) -> str:
    """JSON text for a backend: money as a string, time as ISO 8601 UTC."""
    response = answer.response
    usage = response.usage
    return json.dumps(
        {
            "v": PAYLOAD_VERSION,
            "model": answer.model,
            "cost_usd": None if answer.cost_usd is None else str(answer.cost_usd),
            "created_at": answer.created_at.isoformat(),
            "response": {
                "text": response.text,
                "finish_reason": response.finish_reason,
                "usage": {
                    "input_tokens": usage.input_tokens,
                    "output_tokens": usage.output_tokens,
                    "cached_input_tokens": usage.cached_input_tokens,
                    "cache_write_tokens": usage.cache_write_tokens,
                    "reasoning_tokens": usage.reasoning_tokens,
                },
                "tool_calls": [
                    {"id": c.id, "name": c.name, "arguments": c.arguments}
                    for c in response.tool_calls
                ],
                "model": response.model,
                "request_id": response.request_id,
            },
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def load_answer(text: str) -> CachedAnswer:
    """The exact inverse of ``dump_answer``; ValueError on anything else."""
    try:
        data = json.loads(text)
        if data.get("v") != PAYLOAD_VERSION:
            raise ValueError(f"unknown cache payload version {data.get('v')!r}")
        raw = data["response"]
        response = Response(
            text=raw["text"],
            finish_reason=raw["finish_reason"],
            usage=Usage(**raw["usage"]),
            tool_calls=tuple(ToolCall(**call) for call in raw["tool_calls"]),
            model=raw["model"],
            request_id=raw["request_id"],
        )
        cost = data["cost_usd"]
        return CachedAnswer(
            response=response,
            model=data["model"],
            cost_usd=None if cost is None else Decimal(cost),
            created_at=datetime.fromisoformat(data["created_at"]),
        )
    except (KeyError, TypeError, AttributeError, ArithmeticError, PricingError) as exc:
        raise ValueError(f"not a cached answer: {exc!r}") from None


# --------------------------------------------------------------------------- streams


class StreamCapture:
    """Collects a stream's chunks; gives a Response only once the final chunk has arrived."""

    def __init__(self) -> None:
        self._text: list[str] = []
        self._calls: dict[int, list[str]] = {}  # index -> [id, name, arguments]
        self.finish_reason: FinishReason | None = None
        self.usage: Usage | None = None
        self.model: str | None = None
        self.request_id: str | None = None

    def add(self, chunk: StreamChunk) -> None:
        if chunk.text:
            self._text.append(chunk.text)
        if chunk.tool_call_index is not None:
            call = self._calls.setdefault(chunk.tool_call_index, ["", "", ""])
            call[0] = chunk.tool_call_id or call[0]
            call[1] = chunk.tool_call_name or call[1]
            call[2] += chunk.tool_call_arguments
        self.model = chunk.model or self.model
        self.request_id = chunk.request_id or self.request_id
        if chunk.usage is not None:
            self.usage = chunk.usage
        if chunk.finish_reason is not None:
            self.finish_reason = chunk.finish_reason

    @property
    def complete(self) -> bool:
        """True once the closing chunk (with its finish reason) arrived: the stream was not cut."""
        return self.finish_reason is not None

    def response(self) -> Response | None:
        if self.finish_reason is None:
            return None
        return Response(
            text="".join(self._text),
            finish_reason=self.finish_reason,
            usage=self.usage if self.usage is not None else Usage(),
            tool_calls=tuple(ToolCall(*self._calls[i]) for i in sorted(self._calls)),
            model=self.model,
            request_id=self.request_id,
        )


async def replay(answer: CachedAnswer, chunk_chars: int = 16, *,
                 request_id: str | None = None) -> AsyncIterator[StreamChunk]:
    """A cached answer as a stream, in the adapters' chunk protocol.

    Text in pieces of ``chunk_chars`` characters, then one chunk per tool call, then a final
    chunk with no text carrying the finish reason and usage. ``request_id`` replaces the stored
    one (a replay answers a new request).
    """
    if chunk_chars < 1:
        raise ValueError(f"chunk_chars must be at least 1, got {chunk_chars}")
    response = answer.response
    rid = request_id or response.request_id
    model = response.model
    text = response.text
    for start in range(0, len(text), chunk_chars):
        yield StreamChunk(text=text[start:start + chunk_chars], model=model, request_id=rid)
    for index, call in enumerate(response.tool_calls):
        yield StreamChunk(tool_call_index=index, tool_call_id=call.id,
                          tool_call_name=call.name, tool_call_arguments=call.arguments,
                          model=model, request_id=rid)
    yield StreamChunk(finish_reason=response.finish_reason, usage=response.usage, model=model,
                      request_id=rid)


# --------------------------------------------------------------------------- the cache


def _namespace(name: str, value: Namespace | Mapping[str, Any]) -> Namespace:
    if isinstance(value, Namespace):
        if value.name != name:
            raise ValueError(f"cache namespace {name!r} is configured with name {value.name!r}")
        return value
    unknown = set(value) - {"ttl_s", "max_entries", "cache_nondeterministic"}
    if unknown:
        raise ValueError(
            f"cache namespace {name!r}: unknown field(s) {', '.join(sorted(unknown))}"
            " (expected ttl_s, max_entries, cache_nondeterministic)"
        )
    return Namespace(name, **value)


class ResponseCache:
    """Answers by key, in namespaces; see the module docstring.

    ``namespaces`` maps a name to a ``Namespace`` or to ``{"ttl_s": .., "max_entries": ..,
    "cache_nondeterministic": ..}``; ``default`` is added (3600 s, 10,000) when missing.
    """

    def __init__(self, backend: CacheBackend,
                 namespaces: Mapping[str, Namespace | Mapping[str, Any]] | None = None) -> None:
        self.backend = backend
        configured = {
            name: _namespace(name, value)
            for name, value in (namespaces if namespaces is not None
                                else DEFAULT_NAMESPACES).items()
        }
        configured.setdefault(DEFAULT_NAMESPACE, DEFAULT_NAMESPACES[DEFAULT_NAMESPACE])
        self.namespaces: Mapping[str, Namespace] = configured

    def namespace(self, name: str) -> Namespace:
        found = self.namespaces.get(name)
        if found is None:
            from modelrouter.config.defaults import did_you_mean

            raise ValueError(
                f"unknown cache namespace {name!r}" + did_you_mean(name, list(self.namespaces))
            )
        return found

    def cacheable(self, params: Mapping[str, Any], namespace: str = DEFAULT_NAMESPACE) -> bool:
        """Whether answers to ``params`` may be cached in ``namespace`` (see ``keys.cacheable``)."""
        return cacheable(params,
                         nondeterministic_ok=self.namespace(namespace).cache_nondeterministic)

    def get(self, key: str, namespace: str = DEFAULT_NAMESPACE) -> CachedAnswer | None:
        """The live answer under ``key``, or None; counts a hit or a miss."""
        self.namespace(namespace)
        try:
            payload = self.backend.lookup(namespace, key)
        except self.backend.transient_errors as exc:
            log.warning("response cache unavailable, treating as a miss: %s", exc)
            return None
        if payload is None:
            return None
        try:
            return load_answer(payload)
        except ValueError as exc:
            log.warning("unreadable cache entry %s/%s ignored: %s", namespace, key, exc)
            return None

    def put(self, key: str, answer: CachedAnswer | BaseException,
            namespace: str = DEFAULT_NAMESPACE) -> bool:
        """Store a successful answer; False (nothing stored) for an error or a failed answer."""
        config = self.namespace(namespace)
        if not isinstance(answer, CachedAnswer):
            return False
        if answer.response.finish_reason in UNCACHEABLE_FINISH:
            return False
        try:
            self.backend.store(namespace, key, dump_answer(answer), ttl_s=config.ttl_s,
                               max_entries=config.max_entries)
        except self.backend.transient_errors as exc:
            log.warning("response cache unavailable, answer not stored: %s", exc)
            return False
        return True

    def put_stream(self, key: str, chunks: Iterable[StreamChunk], *, model: str,
                   cost_usd: Decimal | None, namespace: str = DEFAULT_NAMESPACE) -> bool:
        """Store a streamed answer; False for a stream cut before its final chunk."""
        capture = StreamCapture()
        for chunk in chunks:
            capture.add(chunk)
        response = capture.response()
        if response is None:
            return False
        return self.put(key, CachedAnswer(response, model, cost_usd), namespace)

    def stats(self) -> dict[str, NamespaceStats]:
        """Per namespace (configured or found in the backend): hits, misses, entries."""
        found = self.backend.counts()
        result = {}
        for name in sorted(set(found) | set(self.namespaces)):
            counts = found.get(name, Counts())
            config = self.namespaces.get(name)
            result[name] = NamespaceStats(
                name, counts.hits, counts.misses, counts.entries,
                ttl_s=config.ttl_s if config else None,
                max_entries=config.max_entries if config else None,
            )
        return result

    def clear(self, namespace: str | None = None) -> int:
        """Remove the entries and reset the counters of one namespace, or of all; how many."""
        if namespace is not None:
            check_namespace(namespace)
        return self.backend.clear(namespace)

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_cache(url: str | None = None, *,
               namespaces: Mapping[str, Namespace | Mapping[str, Any]] | None = None
               ) -> ResponseCache:
    """A ResponseCache on the backend ``url`` names (``memory://``, ``sqlite:///path``,
    ``redis://…``); default ``MODELROUTER_CACHE_URL``, else SQLite in the user data dir."""
    return ResponseCache(open_backend(url), namespaces)


def cache_from_settings(settings: CacheSettings, *, url: str | None = None,
                        namespaces: Mapping[str, Namespace | Mapping[str, Any]] | None = None
                        ) -> ResponseCache | None:
    """The cache ``AI_CACHE_ENABLED`` / ``AI_CACHE_TTL`` ask for; None when disabled.

    ``ttl_s`` sets the default namespace's lifetime; 0 means entries never expire.
    """
    if not settings.enabled:
        return None
    configured = dict(namespaces if namespaces is not None else DEFAULT_NAMESPACES)
    base = _namespace(DEFAULT_NAMESPACE, configured.get(DEFAULT_NAMESPACE,
                                                        DEFAULT_NAMESPACES[DEFAULT_NAMESPACE]))
    configured[DEFAULT_NAMESPACE] = Namespace(
        DEFAULT_NAMESPACE, ttl_s=settings.ttl_s or None, max_entries=base.max_entries,
        cache_nondeterministic=base.cache_nondeterministic,
    )
    return open_cache(url, namespaces=configured)


__all__ = [
    "DEFAULT_NAMESPACE",
    "DEFAULT_NAMESPACES",
    "UNCACHEABLE_FINISH",
    "CachedAnswer",
    "Namespace",
    "NamespaceStats",
    "ResponseCache",
    "StreamCapture",
    "cache_from_settings",
    "dump_answer",
    "load_answer",
    "open_cache",
    "replay",
]
