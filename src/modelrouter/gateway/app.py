"""The gateway application: OpenAI- and Anthropic-compatible endpoints in front of the router.

One ``Gateway`` per worker process. Its ``handle`` is the ``http.Server`` handler: auth (a
master key or a virtual key), the model allow-list, idempotency, the key's rate limit, then
the router (which books budgets and the ledger), then the wire format the client speaks.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelrouter.catalog.pricing import format_usd
from modelrouter.errors import RateLimitedError, RouterError
from modelrouter.gateway import anthropic_wire as aw
from modelrouter.gateway import openai_wire as ow
from modelrouter.gateway.http import Request, Response, StreamResponse
from modelrouter.gateway.keys import VirtualKey, allows_model

if TYPE_CHECKING:
    from modelrouter.gateway.idempotency import IdempotencyStore
    from modelrouter.gateway.keys import KeyStore
    from modelrouter.gateway.limits import RateLimiter
    from modelrouter.gateway.metrics import GatewayMetrics
    from modelrouter.gateway.signing import RequestVerifier
    from modelrouter.routing.router import Router

log = logging.getLogger("modelrouter.gateway")

Handler = Callable[[Request], Awaitable[Response | StreamResponse]]
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    master_key: str | None = None
    auth_required: bool = True
    max_body_bytes: int = 4 * 1024 * 1024
    max_messages: int = 1000


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the master key (``key`` None) or a virtual key."""

    key: VirtualKey | None

    @property
    def key_id(self) -> str | None:
        return None if self.key is None else self.key.id


MASTER = Caller(None)


class Gateway:
    def __init__(
        self, router: Router, *, settings: GatewaySettings, keys: KeyStore | None = None,
        limiter: RateLimiter | None = None, idempotency: IdempotencyStore | None = None,
        metrics: GatewayMetrics | None = None, verifier: RequestVerifier | None = None,
    ) -> None:
        self.router = router
        self.settings = settings
        self.keys = keys
        self.limiter = limiter
        self.idempotency = idempotency
        self.metrics = metrics
        self.verifier = verifier
        self._master = (settings.master_key or "").encode()
        self.routes: dict[tuple[str, str], Handler] = {
            ("POST", "/v1/chat/completions"): self.chat_completions,
            ("POST", "/chat/completions"): self.chat_completions,
            ("POST", "/v1/messages"): self.messages,
            ("GET", "/v1/models"): self.list_models,
            ("GET", "/health"): self.health,
            ("GET", "/ready"): self.ready,
            ("GET", "/metrics"): self.metrics_text,
        }
        self.prefix_routes: list[tuple[str, str, Handler]] = []

    # ----------------------------------------------------------------- dispatch

    async def handle(self, request: Request) -> Response | StreamResponse:
        route = self.routes.get((request.method, request.path))
        if route is None:
            for method, prefix, handler in self.prefix_routes:
                if request.method == method and request.path.startswith(prefix):
                    route = handler
                    break
        anthropic = request.path.startswith("/v1/messages")
        if route is None:
            known = any(path == request.path for _, path in self.routes)
            status = 405 if known else 404
            return _error(ow.WireError(status, f"no route for {request.method} {request.path}"),
                          anthropic)
        try:
            return await route(request)
        except (ow.WireError, RouterError) as exc:
            response = _error(exc, anthropic)
            if response.status >= 500 and not isinstance(exc, ow.WireError) and (
                ow.classify_error(exc).status == 500
            ):  # our own fault, not a provider's: say what it was, once, in the log
                log.error("%s %s failed: %s", request.method, request.path, exc)
            return response

    # ----------------------------------------------------------------- auth

    async def authenticate(self, request: Request) -> Caller:
        if self.verifier is not None:
            from modelrouter.gateway.signing import SignatureError

            try:
                await self.verifier.verify(request.method, request.path, request.body,
                                           request.headers)
            except SignatureError as exc:
                raise ow.WireError(401, f"request signature rejected: {exc}",
                                   code="invalid_signature") from None
        if not self.settings.auth_required:
            return MASTER
        presented = _bearer(request.headers)
        if presented is None:
            raise ow.WireError(401, "missing API key: send 'Authorization: Bearer <key>'",
                               code="missing_api_key")
        if self._master and hmac.compare_digest(presented.encode(), self._master):
            return MASTER
        if self.keys is not None:
            key = await self.keys.authenticate_async(presented,
                                                     remote=request.headers.get("x-real-ip"))
            if key is not None:
                return Caller(key)
        raise ow.WireError(401, "invalid API key", code="invalid_api_key")

    # ----------------------------------------------------------------- chat

    async def chat_completions(self, request: Request) -> Response | StreamResponse:
        caller = await self.authenticate(request)
        call = ow.parse_chat_request(request.body, max_messages=self.settings.max_messages,
                                     max_bytes=self.settings.max_body_bytes)
        return await self._answer(request, caller, call, anthropic=False)

    async def messages(self, request: Request) -> Response | StreamResponse:
        caller = await self.authenticate(request)
        call = aw.parse_messages_request(request.body, max_messages=self.settings.max_messages,
                                         max_bytes=self.settings.max_body_bytes)
        return await self._answer(request, caller, call, anthropic=True)

    async def _answer(self, request: Request, caller: Caller, call: ow.ChatCall, *,
                      anthropic: bool) -> Response | StreamResponse:
        target = self.router.resolve(model=call.model, messages=call.messages)
        if caller.key is not None and not allows_model(
            caller.key, target.pinned or call.model, target.tier
        ):
            raise ow.WireError(403, f"this key may not use {call.model!r}",
                               param="model", code="model_not_allowed")
        idem_key = request.headers.get("idempotency-key")
        if idem_key and self.idempotency is not None:
            replay = await self._idempotency_begin(caller, idem_key, request.body)
            if replay is not None:
                return replay
        try:
            await self._rate_limit(caller, call)
            options = dict(call.options)
            options["target"] = target  # resolved once: `auto` scores the prompt once
            if call.stream:
                response: Response | StreamResponse = await self._stream(
                    caller, call, options, anthropic)
            else:
                response = await self._complete(caller, call, options, anthropic)
        except BaseException:
            if idem_key and self.idempotency is not None:
                await self.idempotency.abandon(_idem(caller, idem_key))
            raise
        if idem_key and self.idempotency is not None and isinstance(response, Response):
            await self.idempotency.complete(_idem(caller, idem_key), response.status,
                                            dict(response.headers or {}), response.body)
        return response

    async def _complete(self, caller: Caller, call: ow.ChatCall, options: dict[str, Any],
                        anthropic: bool) -> Response:
        started = time.perf_counter()
        result = await self.router.chat(call.messages, model=call.model, key=caller.key_id,
                                        **options)
        if anthropic:
            body = aw.render_message(result, model_label=result.model)
        else:
            body = ow.render_completion(result, created=int(time.time()),
                                        model_label=result.model)
        headers = _receipt(result.model, result.tier, result.cost, result.fallback_depth,
                           result.request_id)
        self._observe(result.model, result.provider, result.tier, "ok",
                      time.perf_counter() - started, None, result.usage, result.cost,
                      result.fallback_depth)
        if self.metrics is not None and result.attempts and result.attempts[-1].cache_hit:
            self.metrics.cache_hits.labels().inc()
        return Response(200, body, headers)

    async def _stream(self, caller: Caller, call: ow.ChatCall, options: dict[str, Any],
                      anthropic: bool) -> StreamResponse:
        started = time.perf_counter()
        handle = self.router.stream(call.messages, model=call.model, key=caller.key_id,
                                    **options)
        chunks = handle.__aiter__()
        try:
            first = await anext(chunks)  # errors before the first token become a status
        except StopAsyncIteration:
            raise ow.WireError(502, "the provider ended the stream before any token",
                               code="empty_stream") from None
        ttft = time.perf_counter() - started
        model = handle.model or call.model
        request_id = handle.request_id
        if anthropic:
            encoder: Any = aw.AnthropicSSEEncoder(message_id=f"msg_{request_id}",
                                                  model_label=model)
        else:
            encoder = ow.SSEEncoder(completion_id=f"chatcmpl-{request_id}",
                                    created=int(time.time()), model_label=model,
                                    include_usage=True)  # usage is always filled in

        async def body() -> AsyncIterator[bytes]:
            status = "error"
            try:
                yield encoder.encode(first)
                async for chunk in chunks:
                    data = encoder.encode(chunk)
                    if data:
                        yield data
                yield encoder.finish(handle.usage, handle.finish_reason)
                status = "ok"
            except RouterError as exc:  # after the first token: end the stream with an error
                yield encoder.error(exc)
            finally:
                self._observe(model, handle.provider or "", handle.tier, status,
                              time.perf_counter() - started, ttft, handle.usage, handle.cost,
                              handle.fallback_depth)

        headers = _receipt(model, handle.tier, None, handle.fallback_depth, request_id)
        return StreamResponse(200, headers, body())

    async def _rate_limit(self, caller: Caller, call: ow.ChatCall) -> None:
        key = caller.key
        if key is None or self.limiter is None or (key.rpm is None and key.tpm is None):
            return
        from modelrouter.routing.tokens import count_message_tokens

        tokens = count_message_tokens(call.messages) + int(call.options.get("max_tokens") or 0)
        ok, retry_after = await self.limiter.acquire(key.id, tokens, rpm=key.rpm, tpm=key.tpm)
        if not ok:
            if retry_after == float("inf"):
                raise ow.WireError(413, "this request needs more tokens than the key's "
                                   "tokens-per-minute limit allows", code="tokens_exceed_limit")
            raise RateLimitedError(f"rate limit for key {key.prefix}…; retry in "
                                   f"{retry_after:.1f}s", key=key.id, retry_after=retry_after)

    async def _idempotency_begin(self, caller: Caller, idem_key: str, body: bytes
                                 ) -> Response | None:
        from modelrouter.gateway.idempotency import body_hash

        assert self.idempotency is not None
        try:
            begun = await self.idempotency.begin(_idem(caller, idem_key), body_hash(body))
        except ValueError as exc:
            raise ow.WireError(400, f"Idempotency-Key: {exc}", param="Idempotency-Key") from None
        if begun.state == "replay" and begun.stored is not None:
            stored = begun.stored
            headers = {**stored.headers, "x-modelrouter-idempotent-replay": "true"}
            return Response(stored.status, stored.body, headers)
        if begun.state == "conflict":
            raise ow.WireError(409, "this Idempotency-Key was used with a different body",
                               code="idempotency_key_reused")
        if begun.state == "in_flight":
            raise ow.WireError(409, "a request with this Idempotency-Key is still running; "
                               "retry shortly", code="idempotency_in_flight", retry_after=1)
        return None

    # ----------------------------------------------------------------- the rest

    async def list_models(self, request: Request) -> Response:
        await self.authenticate(request)
        config, catalog = self.router.config, self.router.catalog
        created = 1_700_000_000
        entries = [{"id": m.model_id, "object": "model", "created": created,
                    "owned_by": m.provider} for m in catalog]
        for spec in catalog:
            entries.extend({"id": alias, "object": "model", "created": created,
                            "owned_by": spec.provider, "alias_of": spec.model_id}
                           for alias in spec.metadata.aliases)
        entries.extend({"id": f"tier:{name}", "object": "model", "created": created,
                        "owned_by": "modelrouter"} for name in config.tiers)
        entries.extend({"id": name, "object": "model", "created": created,
                        "owned_by": "modelrouter"} for name in ("auto", "auto:cascade"))
        return Response(200, ow.dumps({"object": "list", "data": entries}))

    async def health(self, request: Request) -> Response:
        return Response(200, b'{"status":"ok"}')

    async def ready(self, request: Request) -> Response:
        from modelrouter.gateway.readiness import check_ready

        checks = await check_ready()
        ok = all(c["ok"] for c in checks.values())
        return Response(200 if ok else 503, ow.dumps({"ready": ok, "checks": checks}))

    async def metrics_text(self, request: Request) -> Response:
        if self.metrics is None:
            return Response(404, b'{"error":{"message":"metrics are off"}}')
        from modelrouter.gateway.metrics import CONTENT_TYPE

        self._refresh_gauges()
        return Response(200, self.metrics.render().encode(), content_type=CONTENT_TYPE)

    def _refresh_gauges(self) -> None:
        """Gauges are read at scrape time, not kept up to date on the request path."""
        metrics, router = self.metrics, self.router
        assert metrics is not None
        for model, snap in router.live.breakers.snapshot(router._clock()).items():
            metrics.breaker_open.labels(model).set(1.0 if snap.state == "open" else 0.0)
        store = router.accounting.budgets
        if store is not None:
            for budget in store.budgets():
                if "*" in budget.scope:
                    continue
                status = store.status(budget.scope)
                if status is not None:
                    metrics.budget_remaining_usd.labels(budget.scope).set(float(status.remaining))

    def _observe(self, model: str, provider: str, tier: str, status: str, seconds: float,
                 ttft: float | None, usage: Any, cost: Any, depth: int) -> None:
        metrics = self.metrics
        if metrics is None:
            return
        metrics.requests.labels(model, provider, tier, status).inc()
        metrics.request_duration.labels(model).observe(seconds)
        if ttft is not None:
            metrics.time_to_first_token.labels(model).observe(ttft)
        if usage is not None:
            metrics.tokens.labels(model, "input").inc(usage.input_tokens)
            metrics.tokens.labels(model, "output").inc(usage.output_tokens)
        if cost is not None:
            metrics.cost_usd.labels(model).inc(float(cost.total))
        if depth:
            metrics.fallbacks.labels().inc()


def _idem(caller: Caller, idem_key: str) -> str:
    return f"{caller.key_id or 'master'}:{idem_key}"


def _bearer(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization")
    if value is not None:
        scheme, _, token = value.partition(" ")
        if scheme.lower() == "bearer" and token:
            return token.strip()
    return headers.get("x-api-key")  # the Anthropic SDK's header


def _safe(value: str) -> str:
    if value.isascii() and value.isprintable():
        return value
    return "".join(ch for ch in value if 32 <= ord(ch) < 127)


def _receipt(model: str, tier: str, cost: Any, depth: int, request_id: str) -> dict[str, str]:
    headers = {
        "x-modelrouter-model": _safe(model),
        "x-modelrouter-tier": _safe(tier),
        "x-modelrouter-fallback-depth": str(depth),
        "x-modelrouter-request-id": _safe(request_id),
        "x-request-id": _safe(request_id),
    }
    if cost is not None:
        headers["x-modelrouter-cost-usd"] = format_usd(cost.total)
    return headers


def _error(error: BaseException, anthropic: bool) -> Response:
    status, headers, body = (aw.render_error if anthropic else ow.render_error)(error)
    return Response(status, body, headers)
