"""The Router: plan with the pure selector, then call, retry, fall back, escalate and record.

Decisions live in pure functions (``select``, ``retry.decide``, the breaker); this module is
the I/O shell that performs them. One ``Router`` per event loop.
"""

from __future__ import annotations

import asyncio
import difflib
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import httpx

from modelrouter.adapters.base import Adapter, ChatRequest, Response, Timeouts
from modelrouter.catalog import cost_or_none
from modelrouter.catalog.loader import Catalog, get_catalog
from modelrouter.catalog.pricing import Cost, Usage
from modelrouter.catalog.schema import Capability
from modelrouter.config.schema import RouterConfig, TierSettings
from modelrouter.errors import (
    BudgetExceededError,
    CircuitOpenError,
    ConfigError,
    ProviderError,
    ProviderStatusError,
    RateLimitedError,
    RouterError,
    UnknownModelError,
    ValidationFailedError,
)
from modelrouter.providers.registry import (
    ProviderRegistry,
    ProviderSpec,
    build_adapter,
    default_registry,
)
from modelrouter.routing._request import (
    _all_failed,
    _Fallback,
    _open_stream,
    _OpenStream,
    _Request,
)
from modelrouter.routing.accounting import Accounting, request_scopes
from modelrouter.routing.live import LiveRegistry
from modelrouter.routing.records import AttemptRecord, Outcome, UsageSink
from modelrouter.routing.retry import RetryPolicy, decide
from modelrouter.routing.selection import Candidate, Decision, Requirements, select
from modelrouter.routing.validators import Validator, from_settings, self_check

if TYPE_CHECKING:
    from modelrouter.cache.store import CachedAnswer, ResponseCache
    from modelrouter.routing.complexity import AutoDecision
    from modelrouter.routing.streaming import RouterStream
    from modelrouter.usage.alerts import AlertBook
    from modelrouter.usage.budgets import BudgetStore


@dataclass(frozen=True, slots=True)
class Target:
    """What a request asked for, resolved: a tier, its candidates and its requirements."""

    tier: str
    models: tuple[str, ...]
    require: Requirements
    task: str | None = None
    pinned: str | None = None  # a model asked for by name
    downgraded: bool = False  # over budget: only free models are left
    auto: AutoDecision | None = None  # what the complexity router decided, for auto


@dataclass
class RouterResult:
    """A finished request: the answer, who gave it, what it cost, and every attempt."""

    response: Response
    model: str
    provider: str
    tier: str
    request_id: str
    fallback_depth: int
    cost: Cost | None
    latency_s: float
    attempts: list[AttemptRecord] = field(default_factory=list)
    decision: Decision | None = None

    @property
    def text(self) -> str:
        return self.response.text

    @property
    def usage(self) -> Usage:
        return self.response.usage


MAX_BUDGET_REPLANS = 3


class Router:
    """Async core. ``Router(config)``; ``await router.chat(messages, tier="fast")``."""

    def __init__(
        self,
        config: RouterConfig | None = None,
        *,
        catalog: Catalog | None = None,
        client: httpx.AsyncClient | None = None,
        sink: UsageSink | None = None,
        environ: Mapping[str, str] | None = None,
        registry: ProviderRegistry | None = None,
        base_urls: Mapping[str, str] | None = None,
        validators: Sequence[Validator] = (),
        cache: ResponseCache | Literal["config"] | None = "config",
        budgets: BudgetStore | Literal["config"] | None = "config",
        alerts: AlertBook | Literal["config"] | None = "config",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if config is None:
            from modelrouter.config import load_config

            config = load_config(environ=environ)
        self.config = config
        self.catalog = catalog or get_catalog()
        self.environ = dict(os.environ if environ is None else environ)
        self.accounting = Accounting.from_config(config, sink=sink, budgets=budgets,
                                                 alerts=alerts)
        self.sink: UsageSink = self.accounting.sink
        self.registry = registry or default_registry()
        self._base_urls = dict(base_urls or {})
        self._client = client
        self._owns_client = client is None
        self._adapters: dict[str, Adapter] = {}
        self._validators = tuple(validators)
        self._validators_by_tier: dict[str, tuple[Validator, ...]] = {}
        if cache == "config":
            from modelrouter.cache.store import cache_from_settings

            cache = cache_from_settings(config.cache)
        self.cache: ResponseCache | None = cache
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        breaker = config.breaker
        self.live = LiveRegistry(
            failure_threshold=breaker.failure_threshold,
            window_s=breaker.window_s,
            cooldown_s=breaker.cooldown_s,
            limits_for=lambda model, free: config.limits_for(model, free),
        )
        retry = config.retry
        self.retry_policy = RetryPolicy(
            max_retries=retry.max_retries, base_delay_s=retry.base_delay_s,
            max_delay_s=retry.max_delay_s,
        )

    # ----------------------------------------------------------------- lifecycle

    async def aclose(self) -> None:
        if self._client is not None and self._owns_client:
            await self._client.aclose()
        self._client = None
        self._adapters.clear()

    async def __aenter__(self) -> Router:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ----------------------------------------------------------------- planning

    def resolve(
        self, *, tier: str | None = None, task: str | None = None, model: str | None = None,
        require: Sequence[str] = (), messages: Sequence[Mapping[str, Any]] | None = None,
    ) -> Target:
        """Turn tier/task/model (incl. ``tier:x``, ``task:y``, ``auto``) into candidates.

        ``auto`` / ``auto:<threshold>`` (as the model or the tier) scores ``messages`` with
        the complexity router and routes to the tier it picks; ``auto:cascade[:<t>]`` also
        self-checks a cheap-tier answer and escalates it when the check rejects it.
        """
        config = self.config
        auto_spec = model if model is not None and (
            model == "auto" or model.startswith("auto:")) else (
            tier if tier is not None and (tier == "auto" or tier.startswith("auto:")) else None)
        if auto_spec is not None:
            from modelrouter.routing.complexity import parse_auto_spec, route

            threshold, cascade = parse_auto_spec(auto_spec)
            picked = route(messages or [], threshold=threshold, cascade=cascade)
            target = self.resolve(tier=picked.tier, task=task, require=require)
            return Target(target.tier, target.models, target.require, target.task, auto=picked)
        if model is not None and model.startswith("tier:"):
            # A model string naming a tier that does not exist is an unknown model (404).
            name = model[5:]
            try:
                config.tier(name)
            except ConfigError:
                from modelrouter.config.defaults import TIER_ALIASES, TIERS

                close = difflib.get_close_matches(name, [*TIERS, *TIER_ALIASES], n=1)
                raise UnknownModelError(model, [f"tier:{c}" for c in close]) from None
        if model is not None:
            if model.startswith("tier:"):
                tier, model = model[5:], None
            elif model.startswith("task:"):
                task, model = model[5:], None
        needs = list(require)
        if task is not None:
            rule = config.task(task)
            tier = tier or rule.tier
            needs = [*rule.require, *needs]
        if model is not None:
            spec = self.catalog.get(model)
            home = next((t for t in config.tiers.values() if spec.model_id in t.models), None)
            tier_name = home.name if home else config.tier(tier or config.router.default_tier).name
            chain = (spec.model_id, *config.fallbacks.get(spec.model_id, ()))
            return Target(tier_name, chain, Requirements.parse(needs), task, spec.model_id)
        settings = config.tier(tier or config.router.default_tier)
        models = settings.models
        return Target(settings.name, models, Requirements.parse(needs), task)

    def plan(
        self, target: Target, *, prompt_tokens: int = 0, max_tokens: int | None = None,
        max_cost_usd: Decimal | None = None, extra_capabilities: Sequence[Capability] = (),
        scopes: Sequence[str] = ("global",),
    ) -> Decision:
        """The pure decision for ``target`` against the current live state."""
        settings = self.config.tier(target.tier)
        require = target.require
        if extra_capabilities:
            require = Requirements(require.fast, require.quality,
                                   require.capabilities | frozenset(extra_capabilities))
        cap = max_cost_usd if max_cost_usd is not None else (
            self.config.router.max_cost_per_request_usd)
        only = self.config.router.provider
        return select(
            target.models,
            catalog=self.catalog,
            tier=settings.name,
            require=require,
            context_tokens=prompt_tokens,
            max_output_tokens=max_tokens or settings.max_tokens,
            max_cost_usd=cap,
            prefer_free=self.config.router.prefer_free,
            order_by_cost=target.pinned is None,
            unavailable_providers=self._unavailable_providers(target.models),
            allowed_providers=frozenset({only}) if only else None,
            state=self.live.snapshot(self._clock(), self.accounting.remaining(scopes)),
        )

    def _unavailable_providers(self, models: Sequence[str]) -> dict[str, str]:
        reasons: dict[str, str] = {}
        for name in models:
            spec = self.catalog.find(name)
            if spec is None or spec.provider in reasons:
                continue
            settings = self.config.provider(spec.provider)
            if settings is None:
                reasons[spec.provider] = f"provider {spec.provider!r} is not configured"
            elif not settings.enabled:
                reasons[spec.provider] = f"provider {spec.provider!r} is disabled in the config"
            elif settings.needs_key and settings.resolve_api_key(self.environ) is None:
                reasons[spec.provider] = f"no API key: set {settings.key_env or 'its api_key'}"
        return reasons

    # ----------------------------------------------------------------- the call

    async def chat(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tier: str | None = None,
        task: str | None = None,
        model: str | None = None,
        require: Sequence[str] = (),
        max_tokens: int | None = None,
        temperature: float | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        response_format: Mapping[str, Any] | None = None,
        stop: Sequence[str] | None = None,
        max_cost_usd: Decimal | None = None,
        validators: Sequence[Validator] = (),
        key: str | None = None,
        team: str | None = None,
        tags: Sequence[str] = (),
        request_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
        target: Target | None = None,
    ) -> RouterResult:
        """Answer ``messages`` with the cheapest model that fits; see the module docstring."""
        if target is None:  # a caller that resolved already (the gateway) passes it in
            target = self.resolve(tier=tier, task=task, model=model, require=require,
                                  messages=messages)
        started = self._clock()
        if target.auto is not None and target.auto.self_checked:
            validators = (*validators, self_check())  # auto:cascade on the cheap tier
        state = _Request.new(
            request_id, messages, key=key, scopes=request_scopes(key, team, tags),
            task=task or target.task, validators=(*self._validators, *validators),
            max_tokens=max_tokens,
            temperature=temperature, tools=tools, tool_choice=tool_choice,
            response_format=response_format, stop=stop, extra=extra,
        )
        cache_key = self._cache_key(target, state)
        if cache_key is not None:
            hit = self._cache_get(cache_key)
            if hit is not None:
                return self._answer_from_cache(hit, target, state, started)
        needs = _implied_capabilities(tools, response_format)
        escalations = replans = 0
        decision: Decision | None = None
        while True:
            decision = self.plan(target, prompt_tokens=state.prompt_tokens,
                                 max_tokens=max_tokens, max_cost_usd=max_cost_usd,
                                 extra_capabilities=needs, scopes=state.scopes)
            if decision.chosen is None and any(r.code == "budget" for r in decision.rejected):
                replans += 1
                if replans > MAX_BUDGET_REPLANS:  # budget churning under concurrency: stop
                    raise _all_failed(state, decision)
                target = self._over_budget(target, decision, state)
                continue
            settings = self.config.tier(target.tier)
            for candidate in decision.candidates:
                try:
                    response = await self._call_model(candidate, settings, state)
                except _Fallback:
                    continue
                rejection = self._validate(response, settings.name, state)
                if rejection is None:
                    spec = self.catalog.get(candidate.model_id)
                    if cache_key is not None and self.cache is not None:
                        from modelrouter.cache.store import CachedAnswer

                        self.cache.put(cache_key, CachedAnswer(
                            response, candidate.model_id, state.attempts[-1].cost_usd))
                    return RouterResult(
                        response=response,
                        model=candidate.model_id,
                        provider=spec.provider,
                        tier=settings.name,
                        request_id=state.request_id,
                        fallback_depth=state.depth - 1,
                        cost=cost_or_none(candidate.model_id, response.usage),
                        latency_s=self._clock() - started,
                        attempts=list(state.attempts),
                        decision=decision,
                    )
                # Validation failed: the answer was paid for; escalate to the next tier.
                next_tier = self.config.next_tier(settings.name)
                escalations += 1
                if next_tier is None or escalations > self.config.router.max_fallback_attempts:
                    raise rejection
                target = Target(next_tier, self.config.tier(next_tier).models, target.require,
                                target.task)
                break
            else:
                raise _all_failed(state, decision)

    def _over_budget(self, target: Target, decision: Decision, state: _Request) -> Target:
        """Every paid candidate would overflow a budget: fail before any call, or, when the
        config says ``on_exceeded = "downgrade"``, answer with the free models of any tier."""
        if self.config.budget.on_exceeded == "downgrade" and not target.downgraded:
            free = tuple(dict.fromkeys(
                m for t in self.config.tiers.values() for m in t.models
                if (spec := self.catalog.find(m)) is not None and spec.free))
            if free:
                return Target(self.config.tier("fast").name, free, target.require, target.task,
                              downgraded=True)
        cheapest = min((r.estimated_cost_usd for r in decision.rejected
                        if r.code == "budget" and r.estimated_cost_usd is not None),
                       default=Decimal("0.000001"))
        held = self.accounting.reserve(state.scopes, cheapest, state.request_id, 0)  # raises
        # Room appeared since the plan (a concurrent request settled below its reservation):
        # give it back and plan again.
        self.accounting.release(held)
        return target

    def _cache_key(self, target: Target, state: _Request) -> str | None:
        """The response-cache key for this request, or None when it must not be cached."""
        if self.cache is None:
            return None
        from modelrouter.cache.keys import cache_key

        settings = self.config.tier(target.tier)
        options = state.options
        params = {
            **{k: v for k, v in options.items() if k != "extra"},
            "max_tokens": options["max_tokens"] or settings.max_tokens,
            "temperature": options["temperature"] if options["temperature"] is not None
            else settings.temperature,
            "extra": options["extra"],
        }
        if not self.cache.cacheable(params):
            return None
        name = target.pinned or f"tier:{target.tier}"
        return cache_key(target=name, messages=state.messages, params=params)

    def _cache_get(self, key: str) -> CachedAnswer | None:
        return None if self.cache is None else self.cache.get(key)

    def _record_cache_hit(self, hit: CachedAnswer, tier: str, state: _Request,
                          latency: float, streamed: bool) -> AttemptRecord:
        spec = self.catalog.find(hit.model)
        record = AttemptRecord(
            request_id=state.request_id, time=datetime.now(UTC), model=hit.model,
            provider=spec.provider if spec else hit.model.split(":", 1)[0], tier=tier,
            outcome="success", fallback_depth=0, free=bool(spec and spec.free),
            usage=hit.response.usage, cost_usd=Decimal(0), latency_s=latency,
            ttft_s=latency if streamed else None, streamed=streamed, key=state.key,
            task=state.task, cache_hit=True, saved_usd=hit.cost_usd,
        )
        state.attempts.append(record)
        self.accounting.record(record)
        return record

    def _answer_from_cache(self, hit: CachedAnswer, target: Target, state: _Request,
                           started: float) -> RouterResult:
        latency = self._clock() - started
        self._record_cache_hit(hit, target.tier, state, latency, streamed=False)
        spec = self.catalog.find(hit.model)
        zero = cost_or_none(hit.model, Usage())
        return RouterResult(
            response=hit.response, model=hit.model,
            provider=spec.provider if spec else hit.model.split(":", 1)[0], tier=target.tier,
            request_id=state.request_id, fallback_depth=0, cost=zero, latency_s=latency,
            attempts=list(state.attempts), decision=None,
        )

    def stream(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tier: str | None = None,
        task: str | None = None,
        model: str | None = None,
        require: Sequence[str] = (),
        max_tokens: int | None = None,
        temperature: float | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        response_format: Mapping[str, Any] | None = None,
        stop: Sequence[str] | None = None,
        max_cost_usd: Decimal | None = None,
        key: str | None = None,
        team: str | None = None,
        tags: Sequence[str] = (),
        request_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
        target: Target | None = None,
    ) -> RouterStream:
        """Stream an answer. Falls back only before the first token reaches the caller; a
        failure after that ends the stream with the error and is recorded as failed.
        Quality validators do not apply: the caller has the tokens already."""
        if target is None:  # a caller that resolved already (the gateway) passes it in
            target = self.resolve(tier=tier, task=task, model=model, require=require,
                                  messages=messages)
        state = _Request.new(
            request_id, messages, key=key, scopes=request_scopes(key, team, tags),
            task=task or target.task, validators=(),
            max_tokens=max_tokens, temperature=temperature, tools=tools,
            tool_choice=tool_choice, response_format=response_format, stop=stop, extra=extra,
        )
        key = self._cache_key(target, state)
        hit = self._cache_get(key) if key is not None else None
        needs = _implied_capabilities(tools, response_format)
        decision = self.plan(target, prompt_tokens=state.prompt_tokens, max_tokens=max_tokens,
                             max_cost_usd=max_cost_usd, extra_capabilities=needs,
                             scopes=state.scopes)
        if decision.chosen is None and any(r.code == "budget" for r in decision.rejected):
            target = self._over_budget(target, decision, state)
            # The replan keeps every constraint of the first plan; only the target changed.
            decision = self.plan(target, prompt_tokens=state.prompt_tokens,
                                 max_tokens=max_tokens, max_cost_usd=max_cost_usd,
                                 extra_capabilities=needs, scopes=state.scopes)
        from modelrouter.routing.streaming import RouterStream

        return RouterStream(self, decision, state, cache_key=key, cached=hit)

    def _tier_validators(self, tier: str) -> tuple[Validator, ...]:
        """The config's validators for a tier, built once (JSON schemas compile once)."""
        built = self._validators_by_tier.get(tier)
        if built is None:
            built = tuple(
                from_settings(v.kind, v.name, {"schema": v.json_schema, "pattern": v.pattern,
                                               "min_chars": v.min_chars,
                                               "max_chars": v.max_chars})
                for v in self.config.validators_for(tier)
            )
            self._validators_by_tier[tier] = built
        return built

    def _validate(
        self, response: Response, tier: str, state: _Request
    ) -> ValidationFailedError | None:
        for validator in (*self._tier_validators(tier), *state.validators):
            reason = validator.check(response)
            if reason is not None:
                error = ValidationFailedError(validator.name, reason)
                last = state.attempts[-1]
                state.attempts[-1] = _replace(last, outcome="validation_failed",
                                              error_class=type(error).__name__,
                                              error_message=str(error))
                self.accounting.record(state.attempts[-1])
                state.failures.append((last.model, error))
                return error
        if state.attempts:
            self.accounting.record(state.attempts[-1])
        return None

    async def _call_model(
        self, candidate: Candidate, settings: TierSettings, state: _Request
    ) -> Response:
        """Call one model with retries; raise _Fallback to move on, or a final error."""
        result = await self._attempt_loop(candidate, settings, state, stream=False)
        assert isinstance(result, Response)
        return result

    async def _open_stream_on(
        self, candidate: Candidate, settings: TierSettings, state: _Request
    ) -> _OpenStream:
        """Open a stream on one model, up to its first token, with retries and fallback."""
        result = await self._attempt_loop(candidate, settings, state, stream=True)
        assert isinstance(result, _OpenStream)
        return result

    async def _attempt_loop(
        self, candidate: Candidate, settings: TierSettings, state: _Request, *, stream: bool
    ) -> Response | _OpenStream:
        model_id = candidate.model_id
        spec = self.catalog.get(model_id)
        adapter = self._adapter(spec.provider)
        timeouts = Timeouts(settings.timeouts.connect_s, settings.timeouts.first_token_s,
                            settings.timeouts.total_s)
        request = self._build_request(spec.metadata.api_identifier, settings, state)
        depth = state.depth
        state.depth += 1
        deadline = self._clock() + timeouts.total_s
        retry = 0
        while True:
            now = self._clock()
            if not self.live.breakers.allow(model_id, now):
                until = self.live.breakers.get(model_id).open_until or now
                error: RouterError = CircuitOpenError(model_id, _wall(until, now))
                state.failures.append((model_id, error))
                raise _Fallback(error)
            limit = self.live.rate_limit(model_id, candidate.free)
            estimate = state.prompt_tokens + (request.max_tokens or 0)
            if limit is not None:
                wait = limit.try_acquire(estimate, now)
                if wait > 0:
                    error = RateLimitedError(f"local rate limit for {model_id}; retry in "
                                             f"{wait:.1f}s", model=model_id, retry_after=wait)
                    state.failures.append((model_id, error))
                    raise _Fallback(error)
            try:
                held = self.accounting.reserve(state.scopes, candidate.estimated_cost_usd,
                                               state.request_id, timeouts.total_s)
            except BudgetExceededError:
                if limit is not None:
                    limit.release_tokens(estimate, now)
                raise
            started_wall = datetime.now(UTC)
            started = self._clock()
            remaining = max(deadline - started, 0.001)
            call_timeouts = Timeouts(min(timeouts.connect_s, remaining),
                                     min(timeouts.first_token_s, remaining), remaining)
            try:
                if stream:
                    opened = await _open_stream(adapter, request, call_timeouts)
                else:
                    response = await adapter.send(request, call_timeouts)
                    if response.finish_reason == "error":
                        raise ProviderError(
                            f"{model_id} ended its answer with an error", provider=spec.provider,
                            model=model_id, request_id=response.request_id)
            except RouterError as exc:
                ended = self._clock()
                self.accounting.release(held)
                self._record(state, candidate, depth, retry, started_wall, ended - started,
                             "error", error=exc)
                if _is_ill_health(exc):
                    self.live.breakers.record_failure(model_id, ended)
                if limit is not None:
                    limit.release_tokens(estimate, ended)
                verdict = decide(exc, attempt=retry, policy=self.retry_policy,
                                 remaining_s=deadline - ended, rand=self._rand)
                if verdict.cooldown_s:
                    self.live.cool_down(model_id, ended + verdict.cooldown_s)
                if verdict.action == "retry":
                    await self._sleep(verdict.delay_s)
                    retry += 1
                    continue
                state.failures.append((model_id, exc))
                if verdict.action == "fallback":
                    raise _Fallback(exc) from exc
                raise
            ended = self._clock()
            if stream:
                opened.started, opened.started_wall = started, started_wall
                opened.ttft_s, opened.depth, opened.retry = ended - started, depth, retry
                opened.estimate, opened.limit, opened.held = estimate, limit, held
                return opened
            self.live.breakers.record_success(model_id, ended)
            if limit is not None:
                unused = estimate - response.usage.total_tokens
                if unused > 0:
                    limit.release_tokens(unused, ended)
            # Recorded by _validate once the answer is judged (success or validation_failed).
            record = self._attempt(state, candidate, depth, retry, started_wall,
                                   ended - started, "success", response.usage)
            state.attempts.append(record)
            self.accounting.settle(held, record.cost_usd, state.scopes)
            return response

    def _build_request(self, api_model: str, settings: TierSettings, state: _Request
                       ) -> ChatRequest:
        options = state.options
        return ChatRequest(
            model=api_model,
            messages=state.messages,
            max_tokens=options["max_tokens"] or settings.max_tokens,
            temperature=options["temperature"] if options["temperature"] is not None
            else settings.temperature,
            stop=options["stop"],
            tools=options["tools"],
            tool_choice=options["tool_choice"],
            response_format=options["response_format"],
            extra=options["extra"],
        )

    def _adapter(self, provider: str) -> Adapter:
        adapter = self._adapters.get(provider)
        if adapter is None:
            if self._client is None:
                self._client = httpx.AsyncClient(
                    timeout=None, limits=httpx.Limits(max_keepalive_connections=50))
            settings = self.config.provider(provider)
            if provider in self.registry or settings is None:
                spec = self.registry.get(provider)  # ProviderNotFoundError names close ones
            else:  # a provider the config defines itself (adapter + base_url)
                spec = ProviderSpec(provider, settings.adapter, settings.base_url,
                                    settings.key_env)
            api_key = settings.resolve_api_key(self.environ) if settings else None
            base_url = self._base_urls.get(provider) or (settings.base_url if settings else None)
            headers = dict(settings.headers) if settings else {}
            adapter = build_adapter(spec, self._client, api_key, base_url=base_url,
                                    headers=headers)
            self._adapters[provider] = adapter
        return adapter

    def _attempt(
        self, state: _Request, candidate: Candidate, depth: int, retry: int, when: datetime,
        latency: float, outcome: Outcome, usage: Usage | None = None,
        error: BaseException | None = None, ttft: float | None = None, streamed: bool = False,
    ) -> AttemptRecord:
        cost = cost_or_none(candidate.model_id, usage) if usage is not None else None
        return AttemptRecord(
            request_id=state.request_id, time=when, model=candidate.model_id,
            provider=candidate.provider, tier=candidate.tier, outcome=outcome,
            fallback_depth=depth, free=candidate.free, usage=usage,
            cost_usd=None if cost is None else cost.total, latency_s=latency, ttft_s=ttft,
            error_class=type(error).__name__ if error else None,
            error_message=str(error) if error else None, retry=retry, streamed=streamed,
            key=state.key, task=state.task,
        )

    def _record(self, state: _Request, candidate: Candidate, depth: int, retry: int,
                when: datetime, latency: float, outcome: Outcome, *,
                usage: Usage | None = None, error: BaseException | None = None,
                ttft: float | None = None, streamed: bool = False) -> AttemptRecord:
        record = self._attempt(state, candidate, depth, retry, when, latency, outcome, usage,
                               error, ttft, streamed)
        state.attempts.append(record)
        self.accounting.record(record)
        return record


def _is_ill_health(error: BaseException) -> bool:
    """Failures that say the model is unwell (5xx, timeouts, resets, garbage) trip the breaker;
    a 429 (throttling, handled by cooldown) or a 4xx about the request or credentials do not."""
    if isinstance(error, ProviderStatusError):
        return error.status_code >= 500
    return isinstance(error, ProviderError)


def _implied_capabilities(
    tools: Sequence[Mapping[str, Any]] | None, response_format: Mapping[str, Any] | None
) -> list[Capability]:
    needs: list[Capability] = []
    if tools:
        needs.append(Capability.FUNCTION_CALLING)
    kind = (response_format or {}).get("type")
    if kind == "json_schema":
        needs.append(Capability.STRUCTURED_OUTPUT)
    elif kind == "json_object":
        needs.append(Capability.JSON_MODE)
    return needs


def _wall(monotonic_until: float, now: float) -> datetime:
    return datetime.now(UTC).fromtimestamp(time.time() + (monotonic_until - now), UTC)


def _replace(record: AttemptRecord, **changes: Any) -> AttemptRecord:
    from dataclasses import replace

    return replace(record, **changes)
