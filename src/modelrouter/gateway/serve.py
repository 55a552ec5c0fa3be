"""``modelrouter serve``: build a Gateway inside each worker and run the HTTP server.

Everything with a connection (upstream pool, Redis clients, databases) is created in the
worker after the fork, in ``on_startup``, never at import.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelrouter.gateway.app import Gateway, GatewaySettings
from modelrouter.gateway.http import Request, Response, StreamResponse, serve

log = logging.getLogger("modelrouter.gateway")

MASTER_KEY_ENV = "MODELROUTER_MASTER_KEY"
SIGNING_SECRET_ENV = "MODELROUTER_SIGNING_SECRET"


def _verifier() -> Any:
    """Request signing when ``MODELROUTER_SIGNING_SECRET`` is set; nonces in Redis if shared."""
    secret = os.environ.get(SIGNING_SECRET_ENV)
    if not secret:
        return None
    from modelrouter.gateway.signing import MemoryNonceStore, RedisNonceStore, RequestVerifier

    redis_url = os.environ.get("MODELROUTER_REDIS_URL")
    if redis_url:
        import redis.asyncio as aredis

        return RequestVerifier(secret.encode(), RedisNonceStore(aredis.Redis.from_url(redis_url)))
    return RequestVerifier(secret.encode(), MemoryNonceStore())


def configure_logging() -> None:
    """Warnings and errors to stderr, secrets redacted; no per-request access log."""
    from modelrouter.gateway.redact import RedactingFilter, Redactor

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(Redactor()))
    root = logging.getLogger("modelrouter")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False


@dataclass
class ServeOptions:
    config: str | Path | None = None
    host: str = "127.0.0.1"
    port: int = 4000
    workers: int = 1
    master_key: str | None = None
    auth_required: bool = True
    metrics: bool = True
    base_urls: dict[str, str] = field(default_factory=dict)


async def build_gateway(options: ServeOptions) -> tuple[Gateway, list[Any]]:
    """The gateway for one worker, and what to close when it stops."""
    from modelrouter.config import load_config
    from modelrouter.gateway.idempotency import open_idempotency_store
    from modelrouter.gateway.keys import KeyStore
    from modelrouter.gateway.limits import open_rate_limiter
    from modelrouter.gateway.metrics import GatewayMetrics
    from modelrouter.gateway.transport import RawPoolClient
    from modelrouter.gateway.upstream import UpstreamPool
    from modelrouter.routing.router import Router

    config = load_config(options.config)
    client = RawPoolClient(UpstreamPool())
    router = Router(config, client=client,  # type: ignore[arg-type]
                    base_urls=options.base_urls)
    keys = KeyStore()
    limiter = open_rate_limiter()
    idempotency = open_idempotency_store()
    metrics = GatewayMetrics.create() if options.metrics else None
    settings = GatewaySettings(
        master_key=options.master_key or os.environ.get(MASTER_KEY_ENV),
        auth_required=options.auth_required,
    )
    gateway = Gateway(router, settings=settings, keys=keys, limiter=limiter,
                      idempotency=idempotency, metrics=metrics, verifier=_verifier())
    from modelrouter.gateway.admin import mount_admin

    mount_admin(gateway)
    return gateway, [router, limiter, idempotency, keys]


def run(options: ServeOptions) -> None:
    configure_logging()
    holder: dict[str, Any] = {}

    async def handler(request: Request) -> Response | StreamResponse:
        gateway: Gateway = holder["gateway"]
        return await gateway.handle(request)

    async def startup() -> None:
        gateway, closeables = await build_gateway(options)
        holder["gateway"], holder["closeables"] = gateway, closeables
        log.info("modelrouter gateway listening on http://%s:%s (pid %s)", options.host,
                 options.port, os.getpid())

    async def shutdown() -> None:
        for thing in holder.get("closeables", []):
            closer = getattr(thing, "aclose", None) or getattr(thing, "close", None)
            if closer is None:
                continue
            try:
                result = closer()
                if hasattr(result, "__await__"):
                    await result
            except Exception as exc:  # shutting down: report, keep closing the rest
                log.warning("closing %s failed: %s", type(thing).__name__, exc)

    serve(handler, options.host, options.port, workers=options.workers,
          on_startup=startup, on_shutdown=shutdown)
