"""HTTP/1.1 server on asyncio Protocols and httptools: the gateway's front door.

An app is one coroutine ``async def handle(request: Request) -> Response | StreamResponse``.
One request runs at a time per connection (pipelined requests wait their turn); keep-alive
by default; ``Connection: close`` and HTTP/1.0 honoured. Limits (``Limits``) answer 413 / 431 /
400 with a JSON error body and close the connection; a handler exception answers 500 and is
logged once. Nothing is logged per request.

``Server`` runs inside an existing loop (tests, embedding); ``serve()`` owns the process: it
binds, optionally pre-forks ``workers`` processes sharing the socket, each with its own
(uv)loop, and stops on SIGTERM / SIGINT after finishing in-flight requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

import httptools

__all__ = [
    "Handler", "Limits", "Request", "Response", "Server", "StreamResponse", "new_event_loop",
    "serve",
]

log = logging.getLogger("modelrouter.gateway")


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-request and per-connection limits of the server."""

    max_body_bytes: int = 4 * 1024 * 1024
    max_header_bytes: int = 16 * 1024  # request line + all headers
    max_headers: int = 100
    keepalive_timeout_s: float = 60.0  # an idle connection is closed after this
    shutdown_timeout_s: float = 30.0  # in-flight requests get this long on shutdown


Headers = Mapping[str, str] | None


@dataclass(slots=True)
class Request:
    """One parsed request. ``headers`` keys are lower-case; repeated headers are joined with
    ", ". ``path`` and ``query`` are the raw (not percent-decoded) parts of the target."""

    method: str
    path: str
    query: str
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    keep_alive: bool = True


@dataclass(slots=True)
class Response:
    """A complete response, sent in one write with a Content-Length."""

    status: int = 200
    body: bytes = field(default=b"", repr=False)
    headers: Headers = None
    content_type: str = "application/json"

    @classmethod
    def json(cls, obj: Any, status: int = 200, headers: Headers = None) -> Response:
        return cls(status, json.dumps(obj, separators=(",", ":")).encode(), headers)


@dataclass(slots=True)
class StreamResponse:
    """A streamed response, sent with ``Transfer-Encoding: chunked``; each chunk is written as
    soon as ``chunks`` yields it (an empty chunk is skipped). If ``chunks`` has an ``aclose()``
    it is awaited when the stream ends, fails or the client goes away."""

    status: int
    headers: Headers
    chunks: AsyncIterator[bytes] = field(repr=False)
    content_type: str = "text/event-stream"


Handler = Callable[[Request], Awaitable[Response | StreamResponse]]

_STATUS_LINES = {
    s.value: b"HTTP/1.1 %d %s\r\n" % (s.value, s.phrase.encode()) for s in HTTPStatus
}
_CHUNKED = b"transfer-encoding: chunked\r\n"
_CLOSE = b"connection: close\r\n"
_LAST_CHUNK = b"0\r\n\r\n"
_date: tuple[int, bytes] = (0, b"")


def _date_header() -> bytes:
    global _date
    now = int(time.time())
    if now != _date[0]:
        _date = (now, b"date: " + formatdate(now, usegmt=True).encode() + b"\r\n")
    return _date[1]


def _head(status: int, content_type: str, headers: Mapping[str, str] | None, extra: bytes) -> bytes:
    line = _STATUS_LINES.get(status) or b"HTTP/1.1 %d Unknown\r\n" % status
    parts = [line, _date_header(), b"content-type: ", content_type.encode("latin-1"), b"\r\n"]
    if headers:
        for name, value in headers.items():
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise ValueError(f"CR or LF in response header {name!r}")
            parts.append(f"{name}: {value}\r\n".encode("latin-1"))
    parts.append(extra)
    return b"".join(parts)


def _error_body(status: int, message: str, kind: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": kind, "code": status}}).encode()


_INTERNAL_ERROR = _error_body(500, "internal server error", "server_error")


class _Reject(Exception):
    """Raised inside a parser callback to refuse a request with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class _Connection(asyncio.Protocol):
    __slots__ = (
        "_body", "_body_size", "_busy", "_closed", "_closing", "_drain", "_head_bytes", "_headers",
        "_in_head", "_limits", "_loop", "_parser", "_queue", "_reject", "_server", "_url",
        "_write_paused", "last_active", "transport",
    )

    def __init__(self, server: Server) -> None:
        self._server, self._limits, self._loop = server, server.limits, server.loop
        self._parser = httptools.HttpRequestParser(self)
        self._queue: deque[Request | _Reject] = deque()
        # _closing: close after the current response (shutdown)
        self._busy = self._closed = self._closing = self._write_paused = self._in_head = False
        self._drain: asyncio.Future[None] | None = None
        self._reject: _Reject | None = None
        self._head_bytes = self._body_size = 0
        self._url = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self.last_active = 0.0
        self.transport: asyncio.Transport = None  # type: ignore[assignment]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # TCP_NODELAY: the loop's default
        self.last_active = self._loop.time()
        self._server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._server.connections.discard(self)
        self.resume_writing()

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.last_active = self._loop.time()
        if self._reject is not None:
            return  # refusing: ignore whatever else arrives
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(_Reject(400, "protocol upgrades are not supported"))
            return
        except httptools.HttpParserError as exc:
            cause = exc.__context__
            self._refuse(cause if isinstance(cause, _Reject) else _Reject(400, "malformed request"))
            return
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_bytes > self._limits.max_header_bytes:
                self._refuse(_Reject(431, "request header fields too large"))

    def on_message_begin(self) -> None:
        self._in_head, self._head_bytes, self._body_size = True, 0, 0
        self._url, self._headers, self._body = b"", {}, []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        headers = self._headers
        self._head_bytes += len(name) + len(value)
        if len(headers) >= self._limits.max_headers:
            raise _Reject(431, "too many request headers")
        key, val = name.decode("latin-1").lower(), value.decode("latin-1")
        prev = headers.get(key)
        headers[key] = val if prev is None else f"{prev}, {val}"

    def on_headers_complete(self) -> None:
        self._in_head = False
        if self._head_bytes + len(self._url) > self._limits.max_header_bytes:
            raise _Reject(431, "request header fields too large")
        headers = self._headers
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self._limits.max_body_bytes:
            raise _Reject(413, f"request body larger than {self._limits.max_body_bytes} bytes")
        if "expect" in headers and headers["expect"].lower() == "100-continue":
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        if self._body_size > self._limits.max_body_bytes:
            raise _Reject(413, f"request body larger than {self._limits.max_body_bytes} bytes")
        self._body.append(body)

    def on_message_complete(self) -> None:
        parser = self._parser
        url = self._url
        qpos = url.find(b"?")
        if qpos < 0:
            path, query = url.decode("latin-1"), ""
        else:
            path, query = url[:qpos].decode("latin-1"), url[qpos + 1 :].decode("latin-1")
        body = self._body
        request = Request(parser.get_method().decode("latin-1"), path, query, self._headers,
                          body[0] if len(body) == 1 else b"".join(body), parser.should_keep_alive())
        if self._busy:
            self._queue.append(request)
            if len(self._queue) > 8:  # a client pipelining far ahead: stop reading for now
                self.transport.pause_reading()
        else:
            self._busy = True
            self._loop.create_task(self._run(request))

    def _refuse(self, reject: _Reject) -> None:
        self._reject = reject
        if self._busy:  # answer after the request in flight, in order
            self._queue.append(reject)
        else:
            self._busy = True
            self._send_reject(reject)

    def _send_reject(self, reject: _Reject) -> None:
        kind = "request_too_large" if reject.status == 413 else "invalid_request_error"
        body = _error_body(reject.status, reject.message, kind)
        self._write_response(Response(reject.status, body), keep_alive=False)

    def _write_response(self, resp: Response, keep_alive: bool) -> None:
        body = resp.body
        extra = b"content-length: %d\r\n" % len(body)
        if not keep_alive:
            extra += _CLOSE
        head = _head(resp.status, resp.content_type, resp.headers, extra + b"\r\n")
        if not self._closed:
            self.transport.write(head + body)
            if not keep_alive:
                self.transport.close()

    async def _run(self, request: Request) -> None:
        queue = self._queue
        while True:
            try:
                resp = await self._server.handler(request)
            except Exception:
                log.exception("unhandled error in handler for %s %s", request.method, request.path)
                resp = Response(500, _INTERNAL_ERROR)
            keep_alive = request.keep_alive and not self._closing
            if request.method == "HEAD" and isinstance(resp, Response):
                resp = Response(resp.status, b"", resp.headers, resp.content_type)
            try:
                if isinstance(resp, StreamResponse):
                    keep_alive = await self._write_stream(resp, request, keep_alive)
                else:
                    self._write_response(resp, keep_alive)
            except Exception:
                log.exception("could not send the response to %s %s", request.method, request.path)
                self.transport.abort()
                keep_alive = False
            if not keep_alive or self._closed:
                self.transport.close()  # a no-op when already closed
                return
            self.last_active = self._loop.time()
            if not queue:
                self._busy = False
                return
            item = queue.popleft()
            if len(queue) == 8:
                self.transport.resume_reading()
            if isinstance(item, _Reject):
                self._send_reject(item)
                return
            request = item

    async def _write_stream(self, resp: StreamResponse, request: Request, keep_alive: bool) -> bool:
        """Write a chunked response; returns whether the connection may be kept alive."""
        transport = self.transport
        chunks = resp.chunks
        http10 = self._parser.get_http_version() == "1.0"  # no chunked: the body ends at close
        keep_alive = keep_alive and not http10
        extra = (b"" if http10 else _CHUNKED) + (b"" if keep_alive else _CLOSE)
        head: bytes | None = _head(resp.status, resp.content_type, resp.headers, extra + b"\r\n")
        try:
            if request.method == "HEAD":
                transport.write(head)  # type: ignore[arg-type]
                return keep_alive
            async for chunk in chunks:
                if self._closed:
                    return False
                if not chunk:
                    continue
                data = chunk if http10 else b"%x\r\n%b\r\n" % (len(chunk), chunk)
                if head is not None:  # the head goes out with the first chunk: one write
                    data = head + data
                    head = None
                transport.write(data)
                while self._write_paused and not self._closed:  # backpressure from the client
                    self._drain = self._loop.create_future()
                    await self._drain
            if self._closed:
                return False
            tail = b"" if http10 else _LAST_CHUNK
            transport.write(tail if head is None else head + tail)
            return keep_alive
        except Exception:
            log.exception("stream failed for %s %s", request.method, request.path)
            if head is not None:  # nothing sent yet: a proper 500
                self._write_response(Response(500, _INTERNAL_ERROR), keep_alive=False)
            else:
                transport.abort()  # a truncated chunked body must not look complete
            return False
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()

    def shutdown(self) -> None:
        """Close now if idle, else after the response in flight."""
        self._closing = True
        if not self._busy and not self._closed:
            self.transport.close()


class Server:
    """The server inside a running loop: ``await start()``, then ``await shutdown()``."""

    def __init__(self, handler: Handler, limits: Limits | None = None) -> None:
        self.handler = handler
        self.limits = limits or Limits()
        self.connections: set[_Connection] = set()
        self.loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]
        self._server: asyncio.AbstractServer | None = None
        self._sweeper: asyncio.TimerHandle | None = None

    async def start(
        self, host: str = "127.0.0.1", port: int = 0, *, sock: socket.socket | None = None
    ) -> None:
        """Listen on ``host:port`` (port 0: any free one, see ``port``) or on ``sock``."""
        self.loop = asyncio.get_running_loop()
        sock = sock or _bind(host, port)
        self._server = await self.loop.create_server(lambda: _Connection(self), sock=sock)
        self._schedule_sweep()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return int(self._server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]

    def _schedule_sweep(self) -> None:
        period = max(0.05, min(self.limits.keepalive_timeout_s / 2, 5.0))
        self._sweeper = self.loop.call_later(period, self._sweep)

    def _sweep(self) -> None:
        cutoff = self.loop.time() - self.limits.keepalive_timeout_s
        for conn in list(self.connections):
            if not conn._busy and conn.last_active < cutoff:
                conn.transport.close()
        self._schedule_sweep()

    async def shutdown(self, timeout_s: float | None = None) -> None:
        """Stop accepting, let in-flight requests finish (up to ``timeout_s``), close."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            conn.shutdown()
        timeout = self.limits.shutdown_timeout_s if timeout_s is None else timeout_s
        deadline = self.loop.time() + timeout
        while self.connections and self.loop.time() < deadline:
            await asyncio.sleep(0.01)
        for conn in list(self.connections):
            conn.transport.abort()
        if self._server is not None:
            await self._server.wait_closed()


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A uvloop loop when uvloop is installed, else the standard one."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is optional
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _bind(host: str, port: int, backlog: int = 2048) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # so loops set NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.setblocking(False)
    sock.set_inheritable(True)
    return sock


Hook = Callable[[], Awaitable[None]]


def _run_worker(
    sock: socket.socket, handler: Handler, limits: Limits | None, on_startup: Hook | None,
    on_shutdown: Hook | None,
) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        if on_startup is not None:
            await on_startup()
        server = Server(handler, limits)
        await server.start(sock=sock)
        try:
            await stop.wait()
        finally:
            await server.shutdown()
            if on_shutdown is not None:
                await on_shutdown()

    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()


def serve(
    handler: Handler, host: str = "127.0.0.1", port: int = 4000, *, workers: int = 1,
    limits: Limits | None = None, on_startup: Hook | None = None, on_shutdown: Hook | None = None,
) -> None:
    """Serve until SIGTERM / SIGINT. With ``workers > 1`` the socket is bound once and N
    forked processes accept on it, each with its own loop; the parent forwards SIGTERM to
    them and returns when all have exited. ``on_startup`` / ``on_shutdown`` run inside each
    worker's loop (create upstream pools there, never before the fork)."""
    sock = _bind(host, port)
    if workers <= 1:
        _run_worker(sock, handler, limits, on_startup, on_shutdown)
        return
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            code = 0
            try:
                _run_worker(sock, handler, limits, on_startup, on_shutdown)
            except BaseException:
                log.exception("worker failed")
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    sock.close()

    def forward(signum: int, frame: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for child in children:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(child, 0)
