"""Minimal pass-through gateway on ``http`` + ``upstream``: the foundation's benchmark app.

It checks the bearer key (constant time), reads ``model`` from the JSON body, forwards the
raw body bytes to that model's upstream base URL and relays the reply: JSON in one piece,
SSE chunk by chunk as the upstream sends it, never re-encoded. No routing, pricing or
logging: this measures what the server and the client pool cost.

    python -m modelrouter.gateway.passthrough --host 127.0.0.1 --port 4000 --api-key sk-test \\
        --upstream mock-0=http://127.0.0.1:41001/v1 --upstream mock-50=http://127.0.0.1:41002/v1
"""

from __future__ import annotations

import argparse
import gc
import hmac
import json
from collections.abc import Mapping

from modelrouter.gateway.http import Request, Response, StreamResponse, serve
from modelrouter.gateway.upstream import (
    UpstreamError,
    UpstreamPool,
    UpstreamTimeout,
)

__all__ = ["Passthrough", "main"]

_FORWARD_HEADERS = {"content-type": "application/json"}


def _error(status: int, message: str, kind: str) -> Response:
    return Response.json({"error": {"message": message, "type": kind, "code": status}}, status)


_NOT_FOUND = _error(404, "no such route", "not_found")
_BAD_KEY = _error(401, "invalid or missing API key", "authentication_error")
_BAD_BODY = _error(400, "body must be a JSON object with a string 'model'", "invalid_request_error")


class Passthrough:
    """The app: ``await app(request)``. Call ``start()`` inside the serving loop first."""

    def __init__(
        self, upstreams: Mapping[str, str], api_key: str, pool: UpstreamPool | None = None
    ) -> None:
        self.routes = {m: url.rstrip("/") + "/chat/completions" for m, url in upstreams.items()}
        self.auth = f"Bearer {api_key}".encode()
        self.pool = pool

    async def start(self) -> None:
        if self.pool is None:
            self.pool = UpstreamPool()
        gc.freeze()  # start-up objects never need scanning again

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.aclose()

    async def __call__(self, request: Request) -> Response | StreamResponse:
        if request.path != "/v1/chat/completions" or request.method != "POST":
            return _NOT_FOUND
        given = request.headers.get("authorization", "").encode("latin-1")
        if not hmac.compare_digest(given, self.auth):
            return _BAD_KEY
        try:
            payload = json.loads(request.body)
            model = payload["model"]
            stream = payload.get("stream") is True
        except (ValueError, KeyError, TypeError, AttributeError):
            return _BAD_BODY
        url = self.routes.get(model) if isinstance(model, str) else None
        if url is None:
            return _error(404, f"unknown model {model!r}", "not_found_error")
        pool = self.pool
        assert pool is not None, "start() first"
        try:
            if not stream:
                resp = await pool.request("POST", url, _FORWARD_HEADERS, request.body)
                ctype = resp.headers.get("content-type", "application/json")
                return Response(resp.status, resp.body, None, ctype)
            upstream = await pool.stream("POST", url, _FORWARD_HEADERS, request.body)
        except UpstreamTimeout as exc:
            return _error(504, f"upstream: {exc}", "upstream_timeout")
        except UpstreamError as exc:
            return _error(502, f"upstream: {exc}", "upstream_error")
        ctype = upstream.headers.get("content-type", "text/event-stream")
        if upstream.status != 200 or not ctype.startswith("text/event-stream"):
            try:  # an error body: relay it whole
                body = await upstream.read()
            except UpstreamError as exc:
                return _error(502, f"upstream: {exc}", "upstream_error")
            return Response(upstream.status, body, None, ctype)
        return StreamResponse(upstream.status, None, upstream, ctype)


def _upstream_pair(text: str) -> tuple[str, str]:
    name, sep, url = text.partition("=")
    if not sep or not name or not url.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"expected MODEL=http(s)://base/url, got {text!r}")
    return name, url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m modelrouter.gateway.passthrough",
        description="Pass-through OpenAI gateway for benchmarking the gateway foundation.",
        epilog="example: --port 4000 --api-key sk-test --upstream mock-0=http://127.0.0.1:41001/v1",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4000)
    parser.add_argument("--api-key", required=True, help="the bearer token clients must send")
    parser.add_argument("--upstream", type=_upstream_pair, action="append", default=[],
                        metavar="MODEL=URL", help="an OpenAI-compatible base URL per model")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    app = Passthrough(dict(args.upstream), args.api_key)
    serve(app, args.host, args.port, workers=args.workers,
          on_startup=app.start, on_shutdown=app.close)


if __name__ == "__main__":
    main()
