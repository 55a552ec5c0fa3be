"""Streaming through the router: fall back only before the first token, record the rest.

``Router.stream`` returns a ``RouterStream``; iterate it for chunks, then read its model, usage
and cost.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from modelrouter.adapters.base import StreamChunk
from modelrouter.catalog import cost_or_none
from modelrouter.catalog.pricing import Cost, Usage
from modelrouter.errors import RouterError
from modelrouter.routing._request import _all_failed, _Fallback, _OpenStream, _Request
from modelrouter.routing.records import AttemptRecord, Outcome
from modelrouter.routing.selection import Candidate, Decision

if TYPE_CHECKING:
    from modelrouter.cache.store import CachedAnswer
    from modelrouter.routing.router import Router


class RouterStream:
    """The chunks of a streamed answer; after iteration: model, usage, cost, attempts."""

    def __init__(self, router: Router, decision: Decision, state: _Request, *,
                 cache_key: str | None = None, cached: CachedAnswer | None = None) -> None:
        self._router = router
        self.decision = decision
        self._state = state
        self._cache_key = cache_key
        self._cached = cached
        self._chunks: list[StreamChunk] = []
        self.cache_hit = cached is not None
        self.request_id = state.request_id
        self.model: str | None = None
        self.provider: str | None = None
        self.tier = decision.tier
        self.fallback_depth = 0
        self.usage: Usage | None = None
        self.cost: Cost | None = None
        self.finish_reason: str | None = None
        self.text = ""
        self.completed = False

    @property
    def attempts(self) -> list[AttemptRecord]:
        return list(self._state.attempts)

    def __aiter__(self) -> AsyncIterator[StreamChunk]:
        return self._run()

    async def _run(self) -> AsyncIterator[StreamChunk]:
        router, state = self._router, self._state
        if self._cached is not None:
            from modelrouter.cache.store import replay

            started = router._clock()
            self.model = self._cached.model
            self.provider = self.model.split(":", 1)[0]
            async for chunk in replay(self._cached, request_id=state.request_id):
                self._take(chunk)
                yield chunk
            self.completed = True
            self.cost = cost_or_none(self.model, Usage())
            router._record_cache_hit(self._cached, self.tier, state,
                                     router._clock() - started, streamed=True)
            return
        settings = router.config.tier(self.decision.tier)
        for candidate in self.decision.candidates:
            try:
                opened = await router._open_stream_on(candidate, settings, state)
            except _Fallback:
                continue
            self.model, self.provider = candidate.model_id, candidate.provider
            self.fallback_depth = opened.depth
            outcome: Outcome = "stream_cut"
            error: BaseException | None = None
            try:
                for chunk in opened.buffered:
                    self._take(chunk)
                    yield chunk
                async for chunk in opened.chunks:
                    self._take(chunk)
                    yield chunk
                outcome = "success"
            except RouterError as exc:
                error = exc
                raise
            except (GeneratorExit, asyncio.CancelledError) as exc:
                error = exc  # the caller stopped reading: neither a success nor the model's fault
                outcome = "error"
                raise
            finally:
                self._finish(candidate, opened, outcome, error)
            return
        raise _all_failed(state, self.decision)

    def _take(self, chunk: StreamChunk) -> None:
        if self._cache_key is not None:
            self._chunks.append(chunk)
        self.text += chunk.text
        if chunk.usage is not None:
            self.usage = chunk.usage
        if chunk.finish_reason is not None:
            self.finish_reason = chunk.finish_reason

    def _finish(self, candidate: Candidate, opened: _OpenStream, outcome: Outcome,
                error: BaseException | None) -> None:
        router = self._router
        ended = router._clock()
        model_id = candidate.model_id
        if outcome == "success":
            router.live.breakers.record_success(model_id, ended)
            self.completed = True
            if self.usage is not None:
                self.cost = cost_or_none(model_id, self.usage)
            if self._cache_key is not None and router.cache is not None:
                router.cache.put_stream(self._cache_key, self._chunks, model=model_id,
                                        cost_usd=self.cost.total if self.cost else None)
        elif outcome == "stream_cut":
            router.live.breakers.record_failure(model_id, ended)
        if opened.limit is not None and self.usage is not None:
            unused = opened.estimate - self.usage.total_tokens
            if unused > 0:
                opened.limit.release_tokens(unused, ended)
        router._record(self._state, candidate, opened.depth, opened.retry, opened.started_wall,
                       ended - opened.started, outcome, usage=self.usage, error=error,
                       ttft=opened.ttft_s, streamed=True)
        # Tokens were generated either way; an unknown cost settles at the reserved amount.
        router.accounting.settle(opened.held, self.cost.total if self.cost else None,
                                 self._state.scopes)
