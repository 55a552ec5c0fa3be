"""An httpx transport over ``UpstreamPool``: the adapters keep speaking httpx, the bytes go
through the gateway's lean keep-alive pool instead of httpcore.

Pool errors become the httpx exceptions the adapters already map (connect timeout, read
timeout, connect error, remote protocol error), so there is still one ``except`` site.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from modelrouter.gateway.upstream import (
    UpstreamConnectError,
    UpstreamConnectTimeout,
    UpstreamDisconnected,
    UpstreamError,
    UpstreamFirstByteTimeout,
    UpstreamPool,
    UpstreamPoolTimeout,
    UpstreamProtocolError,
    UpstreamStream,
    UpstreamTimeout,
)

# The adapters enforce the total deadline themselves (asyncio.timeout); the pool's is a backstop.
BACKSTOP_TOTAL_S = 3600.0


class _Body(httpx.AsyncByteStream):
    def __init__(self, stream: UpstreamStream, request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        except UpstreamError as exc:
            raise _httpx_error(exc, self._request) from exc

    async def aclose(self) -> None:
        await self._stream.aclose()


def _httpx_error(exc: UpstreamError, request: httpx.Request) -> httpx.HTTPError:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, UpstreamConnectTimeout | UpstreamPoolTimeout):
        return httpx.ConnectTimeout(text, request=request)
    if isinstance(exc, UpstreamTimeout | UpstreamFirstByteTimeout):
        return httpx.ReadTimeout(text, request=request)
    if isinstance(exc, UpstreamConnectError):
        return httpx.ConnectError(text, request=request)
    if isinstance(exc, UpstreamDisconnected | UpstreamProtocolError):
        return httpx.RemoteProtocolError(text, request=request)
    return httpx.TransportError(text, request=request)


class PoolTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncClient(transport=PoolTransport(pool))``: every request streams its body."""

    def __init__(self, pool: UpstreamPool) -> None:
        self.pool = pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout") or {}
        body = request.content if isinstance(request.stream, httpx.ByteStream) else (
            await request.aread())
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers.raw
                   if k.lower() not in (b"host", b"content-length", b"connection")}
        try:
            stream = await self.pool.stream(
                request.method, str(request.url), headers, body,
                connect_timeout_s=timeout.get("connect"),
                first_byte_timeout_s=timeout.get("read"),
                total_timeout_s=BACKSTOP_TOTAL_S,
            )
        except UpstreamError as exc:
            raise _httpx_error(exc, request) from exc
        return httpx.Response(
            stream.status, headers=list(stream.headers.items()),
            stream=_Body(stream, request), request=request,
        )

    async def aclose(self) -> None:
        await self.pool.aclose()
