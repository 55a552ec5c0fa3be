"""Keep-alive HTTP/1.1 client pool for upstream (provider) calls, on asyncio Protocols.

Per (scheme, host, port): at most ``max_connections_per_host`` persistent connections
(TCP_NODELAY); callers that find all busy wait in a FIFO deque and are handed the next released
one (no scan). ``https://`` uses ``ssl.create_default_context()`` unless a context is given.
Timeouts raise distinct exceptions: ``connect_timeout_s`` (TCP/TLS connect; also the wait for a
free connection: ``UpstreamPoolTimeout``), ``first_byte_timeout_s`` (request written → response
head arrived), ``total_timeout_s`` (call → last body byte); ``None`` in the pool disables one.

Stale connections: a pooled connection the upstream already closed is discarded before anything
is written to it (nothing sent; not a retry). If the request was written on a *reused*
connection and the upstream closes or resets it before a single response byte, the request is
retried once on a fresh connection: the keep-alive race (the upstream closed an idle connection
as our request crossed its FIN; a server that closes without answering produced no response).
Done for every method, since provider calls are POSTs; ``retry_stale=False`` turns it off.
Never retried: a fresh connection, a failure after any response byte, a timeout. A close or
reset mid-body raises ``UpstreamDisconnected``, never a short body.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httptools

__all__ = [
    "UpstreamConnectError", "UpstreamConnectTimeout", "UpstreamDisconnected", "UpstreamError",
    "UpstreamFirstByteTimeout", "UpstreamPool", "UpstreamPoolTimeout", "UpstreamProtocolError",
    "UpstreamResponse", "UpstreamStream", "UpstreamTimeout", "UpstreamTotalTimeout",
]


class UpstreamError(Exception):
    """Any failure to get a complete response. ``request_sent``: the request was written
    (the upstream may have acted on it); False means it certainly was not."""

    def __init__(self, message: str, request_sent: bool = False) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class UpstreamConnectError(UpstreamError):
    """Could not connect (refused, unresolvable, TLS handshake failed)."""

class UpstreamTimeout(UpstreamError):
    """One of the timeouts expired."""

class UpstreamConnectTimeout(UpstreamTimeout):
    """The TCP/TLS connect took longer than ``connect_timeout_s``."""

class UpstreamPoolTimeout(UpstreamTimeout):
    """No connection to the host became free within ``connect_timeout_s``."""

class UpstreamFirstByteTimeout(UpstreamTimeout):
    """The response head did not arrive within ``first_byte_timeout_s`` of the request."""

class UpstreamTotalTimeout(UpstreamTimeout):
    """The whole call (head and body) took longer than ``total_timeout_s``."""

class UpstreamDisconnected(UpstreamError):
    """The upstream closed or reset the connection before the response was complete."""

class UpstreamProtocolError(UpstreamError):
    """The upstream sent something that is not HTTP/1.1."""


@dataclass(slots=True)
class UpstreamResponse:
    """A complete response. ``headers`` keys are lower-case; repeats are joined by ", "."""

    status: int
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)


Loop = asyncio.AbstractEventLoop
_HIGH_WATER = 256 * 1024  # buffered body bytes before we stop reading from the upstream
_RESERVED = frozenset({"host", "content-length", "transfer-encoding", "connection"})


class _Conn(asyncio.Protocol):
    """One upstream connection and the state of the exchange in progress on it."""

    __slots__ = (
        "buffered", "busy", "chunks", "close_delimited", "closed", "counted", "done", "error",
        "fb_deadline", "got_bytes", "headers", "headers_done", "host", "idle_since", "keep_alive",
        "loop", "parser", "paused", "status", "timer", "total_deadline", "transport", "waiter",
    )

    def __init__(self, host: _Host, loop: Loop) -> None:
        self.host, self.loop = host, loop
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.closed = self.busy = False
        self.counted = True  # holds one of the host's connection slots
        self.idle_since = 0.0
        self.waiter: asyncio.Future[None] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.fb_deadline: float | None = None
        self.total_deadline: float | None = None
        self.reset()

    def reset(self) -> None:
        self.status = self.buffered = 0
        self.headers: dict[str, str] = {}
        self.headers_done = self.done = self.close_delimited = self.got_bytes = self.paused = False
        self.keep_alive = True
        self.chunks: list[bytes] = []
        self.error: UpstreamError | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # TCP_NODELAY: the loop's default

    def data_received(self, data: bytes) -> None:
        if not self.busy or self.done or self.error is not None:
            self.keep_alive = False  # bytes nobody asked for: never reuse this connection
            self.transport.close()
            return
        self.got_bytes = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamProtocolError(f"bad response from upstream: {exc}", True))
            self.transport.abort()

    def eof_received(self) -> bool | None:
        return None  # close our side too; connection_lost decides what it meant

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.busy:  # idle in the pool
            self.host.free_slot(self)
        elif self.done or self.error is not None:
            pass
        elif self.close_delimited and exc is None:
            self.done, self.keep_alive = True, False
            self._wake()
        else:
            where = "mid-body" if self.headers_done else "before the response head"
            reason = f": {exc}" if exc else ""
            message = f"upstream closed the connection {where}{reason}"
            self._fail(UpstreamDisconnected(message, True))

    def on_header(self, name: bytes, value: bytes) -> None:
        key, val = name.decode("latin-1").lower(), value.decode("latin-1")
        prev = self.headers.get(key)
        self.headers[key] = val if prev is None else f"{prev}, {val}"

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200:
            self.headers = {}  # an interim response (100 Continue): wait for the real one
            return
        self.status, headers = status, self.headers
        self.close_delimited = status not in (204, 304) and (
            "content-length" not in headers and "transfer-encoding" not in headers)
        self.headers_done = True
        self._wake()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > _HIGH_WATER and not self.paused:
            self.paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self.headers_done:  # else the end of an interim response
            self.done = True
            self.keep_alive = self.parser.should_keep_alive()
            self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def _fail(self, error: UpstreamError) -> None:
        if self.error is None:
            self.error = error
        self._wake()

    def _on_timer(self) -> None:
        self.timer = None
        if self.done or self.error is not None:
            return
        if self.fb_deadline is not None:  # the first-byte timer, always before the total one
            self.fb_deadline = None
            if self.headers_done:
                if self.total_deadline is not None:
                    self.timer = self.loop.call_at(self.total_deadline, self._on_timer)
                return
            self._fail(UpstreamFirstByteTimeout("no response head from upstream in time", True))
        else:
            self._fail(UpstreamTotalTimeout("upstream call exceeded its total timeout", True))
        self.transport.abort()

    def start(self, data: bytes, first_byte_s: float | None, total_deadline: float | None) -> None:
        self.reset()
        fb = None if first_byte_s is None else self.loop.time() + first_byte_s
        if fb is not None and total_deadline is not None and fb >= total_deadline:
            fb = None  # the total deadline comes first anyway
        self.fb_deadline, self.total_deadline = fb, total_deadline
        when = fb if fb is not None else total_deadline
        self.timer = None if when is None else self.loop.call_at(when, self._on_timer)
        self.busy = True
        self.transport.write(data)

    async def wait(self) -> None:
        waiter = self.loop.create_future()
        self.waiter = waiter
        await waiter

    def finish(self) -> None:  # the exchange is over (complete, failed or abandoned)
        self.busy = False
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.paused and not self.closed:
            self.paused = False
            self.transport.resume_reading()


class _Host:
    """The connections to one (scheme, host, port)."""

    def __init__(self, hostname: str, port: int, ssl_ctx: ssl.SSLContext | None, limit: int):
        self.hostname, self.port, self.ssl, self.limit = hostname, port, ssl_ctx, limit
        self.open = 0  # connections holding a slot: idle + busy + connecting
        self.idle: deque[_Conn] = deque()
        self.waiters: deque[asyncio.Future[_Conn | None]] = deque()

    def free_slot(self, conn: _Conn | None = None) -> None:
        """Give back ``conn``'s slot (or, with None, a slot taken for a failed connect)."""
        if conn is not None:
            if not conn.counted:
                return
            conn.counted = False
        self.open -= 1
        self.hand_over(None)

    def hand_over(self, conn: _Conn | None) -> bool:
        """Give ``conn`` (or, with None, the right to open one) to the first live waiter."""
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                if conn is None:
                    self.open += 1
                waiter.set_result(conn)
                return True
        return False


class UpstreamStream:
    """A streamed response: ``status`` and ``headers`` now, the body as raw chunks by
    ``async for`` (chunked encoding decoded, bytes otherwise untouched; chunks that arrived
    together are joined). Call ``aclose()`` if you stop early (``http.StreamResponse`` does)."""

    __slots__ = ("_conn", "_pool", "headers", "status")

    def __init__(self, pool: UpstreamPool, conn: _Conn) -> None:
        self._pool, self.status, self.headers = pool, conn.status, conn.headers
        self._conn: _Conn | None = conn

    def __aiter__(self) -> UpstreamStream:
        return self

    async def __anext__(self) -> bytes:
        conn = self._conn
        if conn is None:
            raise StopAsyncIteration
        while True:
            chunks = conn.chunks
            if chunks:
                conn.chunks, conn.buffered = [], 0
                if conn.paused:
                    conn.paused = False
                    conn.transport.resume_reading()
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
            if conn.error is not None or conn.done:
                await self.aclose()
                raise conn.error or StopAsyncIteration
            try:
                await conn.wait()
            except BaseException:
                await self.aclose()
                raise

    async def read(self) -> bytes:
        """The rest of the body in one piece."""
        return b"".join([chunk async for chunk in self])

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            if conn.done and not conn.chunks and conn.error is None:
                self._pool._release(conn)
            else:
                self._pool._discard(conn)



class UpstreamPool:
    """Persistent upstream connections; create it inside the loop that will use it. Per-call
    timeouts of ``request()`` and ``stream()`` left as None take the pool's."""

    def __init__(
        self, *, max_connections_per_host: int = 256, connect_timeout_s: float | None = 5.0,
        first_byte_timeout_s: float | None = 60.0, total_timeout_s: float | None = 600.0,
        keepalive_expiry_s: float = 15.0, retry_stale: bool = True,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.max_connections_per_host = max_connections_per_host
        self.connect_timeout_s, self.first_byte_timeout_s = connect_timeout_s, first_byte_timeout_s
        self.total_timeout_s, self.keepalive_expiry_s = total_timeout_s, keepalive_expiry_s
        self.retry_stale, self._ssl, self._closed = retry_stale, ssl_context, False
        self._hosts: dict[tuple[str, str, int], _Host] = {}
        self._urls: dict[str, tuple[_Host, bytes]] = {}

    async def request(
        self, method: str, url: str, headers: Mapping[str, str] | None = None, body: bytes = b"",
        *, connect_timeout_s: float | None = None, first_byte_timeout_s: float | None = None,
        total_timeout_s: float | None = None,
    ) -> UpstreamResponse:
        """Send a request and read the whole response."""
        conn = await self._exchange(method, url, headers, body, connect_timeout_s,
                                    first_byte_timeout_s, total_timeout_s)
        try:
            while not conn.done and conn.error is None:
                await conn.wait()
            if conn.error is not None:
                raise conn.error
        except BaseException:
            self._discard(conn)
            raise
        chunks, response = conn.chunks, UpstreamResponse(conn.status, conn.headers, b"")
        response.body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self._release(conn)
        return response

    async def stream(
        self, method: str, url: str, headers: Mapping[str, str] | None = None, body: bytes = b"",
        *, connect_timeout_s: float | None = None, first_byte_timeout_s: float | None = None,
        total_timeout_s: float | None = None,
    ) -> UpstreamStream:
        """Send a request; return at the response head. Iterate the result for the body."""
        conn = await self._exchange(method, url, headers, body, connect_timeout_s,
                                    first_byte_timeout_s, total_timeout_s)
        return UpstreamStream(self, conn)

    async def aclose(self) -> None:
        """Close idle connections; busy ones are closed when their exchange ends."""
        self._closed = True
        for host in self._hosts.values():
            while host.idle:
                host.idle.pop().transport.close()
            while host.waiters:
                host.waiters.popleft().cancel()

    def _route(self, url: str) -> tuple[_Host, bytes]:
        cached = self._urls.get(url)
        if cached is not None:
            return cached
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        port = parts.port or (443 if scheme == "https" else 80)
        host = self._hosts.get((scheme, parts.hostname, port))
        if host is None:
            ctx = (self._ssl or ssl.create_default_context()) if scheme == "https" else None
            host = _Host(parts.hostname, port, ctx, self.max_connections_per_host)
            self._hosts[(scheme, parts.hostname, port)] = host
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        netloc = parts.netloc.rpartition("@")[2]
        if len(self._urls) >= 4096:
            self._urls.clear()
        self._urls[url] = host, f" {target} HTTP/1.1\r\nhost: {netloc}\r\n".encode("latin-1")
        return self._urls[url]

    async def _exchange(
        self, method: str, url: str, headers: Mapping[str, str] | None, body: bytes,
        connect_s: float | None, first_byte_s: float | None, total_s: float | None,
    ) -> _Conn:
        if self._closed:
            raise RuntimeError("UpstreamPool is closed")
        host, prefix = self._route(url)
        parts = [method.encode("latin-1"), prefix]
        for name, value in (headers or {}).items():
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise ValueError(f"CR or LF in request header {name!r}")
            if name.lower() not in _RESERVED:
                parts.append(f"{name}: {value}\r\n".encode("latin-1"))
        if body or method not in ("GET", "HEAD"):
            parts.append(b"content-length: %d\r\n" % len(body))
        parts += (b"\r\n", body)
        data = b"".join(parts)
        loop = asyncio.get_running_loop()
        connect_s = self.connect_timeout_s if connect_s is None else connect_s
        first_byte_s = self.first_byte_timeout_s if first_byte_s is None else first_byte_s
        total_s = self.total_timeout_s if total_s is None else total_s
        total_deadline = None if total_s is None else loop.time() + total_s
        retried = False
        while True:
            conn, reused = await self._acquire(host, loop, connect_s)
            if conn.closed:  # lost between connect/hand-over and now: nothing was sent
                self._discard(conn)
                continue
            conn.start(data, first_byte_s, total_deadline)
            try:
                while not conn.headers_done and conn.error is None:
                    await conn.wait()
                if conn.error is not None:
                    raise conn.error
            except UpstreamDisconnected:
                self._discard(conn)
                if reused and not conn.got_bytes and self.retry_stale and not retried:
                    retried = True
                    continue
                raise
            except BaseException:
                self._discard(conn)
                raise
            return conn

    async def _acquire(self, host: _Host, loop: Loop, timeout: float | None) -> tuple[_Conn, bool]:
        idle = host.idle
        while idle:
            conn = idle.pop()
            if not conn.closed and conn.idle_since >= loop.time() - self.keepalive_expiry_s:
                return conn, True
            self._discard(conn)
        if host.open < host.limit:
            host.open += 1
            return await self._connect(host, loop, timeout), False
        waiter: asyncio.Future[_Conn | None] = loop.create_future()
        host.waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                got = await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():  # handed over as we gave up
                handed = waiter.result()
                host.free_slot() if handed is None else self._release(handed)
            if isinstance(exc, TimeoutError):
                where = f"{host.hostname}:{host.port}"
                raise UpstreamPoolTimeout(f"no free connection to {where}") from None
            raise
        if got is None:  # a slot was freed for us: open a new connection
            return await self._connect(host, loop, timeout), False
        return got, True

    async def _connect(self, host: _Host, loop: Loop, connect_s: float | None) -> _Conn:
        try:
            async with asyncio.timeout(connect_s):
                _, conn = await loop.create_connection(
                    lambda: _Conn(host, loop), host.hostname, host.port, ssl=host.ssl,
                    server_hostname=host.hostname if host.ssl else None,
                )
        except BaseException as exc:
            host.free_slot()
            where = f"{host.hostname}:{host.port}"
            if isinstance(exc, TimeoutError):
                raise UpstreamConnectTimeout(f"connect to {where} timed out") from None
            if isinstance(exc, OSError):
                raise UpstreamConnectError(f"cannot connect to {where}: {exc}") from exc
            raise
        return conn

    def _release(self, conn: _Conn) -> None:
        conn.finish()
        if not conn.keep_alive or conn.closed or conn.error is not None or self._closed:
            self._discard(conn)
            return
        host = conn.host
        conn.reset()
        if host.hand_over(conn):
            return
        conn.idle_since = conn.loop.time()
        host.idle.append(conn)
        oldest = host.idle[0]  # prune one dead or expired connection per release: O(1)
        if oldest.closed or conn.idle_since - oldest.idle_since > self.keepalive_expiry_s:
            host.idle.popleft()
            self._discard(oldest)

    def _discard(self, conn: _Conn) -> None:
        conn.finish()
        if not conn.closed:
            conn.closed = True
            conn.transport.abort()
        conn.host.free_slot(conn)
