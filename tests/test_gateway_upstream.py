"""The upstream connection pool, against scripted servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from modelrouter.gateway.upstream import (
    UpstreamConnectTimeout,
    UpstreamDisconnected,
    UpstreamFirstByteTimeout,
    UpstreamPool,
    UpstreamPoolTimeout,
    UpstreamTotalTimeout,
)


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 5))  # type: ignore[arg-type]


Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter, "Scripted"], Awaitable[None]]


class Scripted:
    """A TCP server that runs ``script`` per accepted connection and counts what it saw."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.connections = 0
        self.requests = 0
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> Scripted:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/v1/x"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.script(reader, writer, self)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        body = await reader.readexactly(length)
        self.requests += 1
        return body


def answer(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n%s\r\n%s" % (len(body), extra, body)


async def keep_answering(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                         srv: Scripted) -> None:
    while True:
        body = await srv.read_request(reader)
        writer.write(answer(b"echo:" + body))


def test_sequential_requests_reuse_one_connection() -> None:
    async def main() -> None:
        async with Scripted(keep_answering) as srv:
            pool = UpstreamPool()
            for i in range(5):
                resp = await pool.request("POST", srv.url, {"x-a": "1"}, b"%d" % i)
                assert (resp.status, resp.body) == (200, b"echo:%d" % i)
            assert (srv.connections, srv.requests) == (1, 5)
            await pool.aclose()

    run(main())


def test_concurrent_requests_wait_for_the_connection_cap() -> None:
    async def main() -> None:
        async with Scripted(keep_answering) as srv:
            pool = UpstreamPool(max_connections_per_host=2)
            replies = await asyncio.gather(
                *(pool.request("POST", srv.url, None, b"%d" % i) for i in range(8)))
            assert [r.body for r in replies] == [b"echo:%d" % i for i in range(8)]
            assert srv.connections == 2
            await pool.aclose()

    run(main())


def test_chunked_body_is_decoded_and_streamed_as_it_arrives() -> None:
    async def main() -> None:
        go_on = asyncio.Event()

        async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                          srv: Scripted) -> None:
            while True:
                await srv.read_request(reader)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                             b"transfer-encoding: chunked\r\n\r\n")
                writer.write(b"b\r\ndata: one\n\n\r\n")
                await writer.drain()
                await go_on.wait()
                writer.write(b"b\r\ndata: two\n\n\r\n0\r\n\r\n")

        async with Scripted(chunked) as srv:
            pool = UpstreamPool()
            stream = await pool.stream("POST", srv.url, None, b"{}")
            assert stream.status == 200 and stream.headers["content-type"] == "text/event-stream"
            assert await stream.__anext__() == b"data: one\n\n"  # before the rest was sent
            go_on.set()
            assert [c async for c in stream] == [b"data: two\n\n"]
            resp = await pool.request("POST", srv.url, None, b"{}")  # same connection, whole body
            assert resp.body == b"data: one\n\ndata: two\n\n"
            assert srv.connections == 1
            await pool.aclose()

    run(main())


def test_a_body_ending_with_the_connection_is_complete() -> None:
    async def close_delimited(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                              srv: Scripted) -> None:
        await srv.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nall of it")

    async def main() -> None:
        async with Scripted(close_delimited) as srv:
            pool = UpstreamPool()
            assert (await pool.request("GET", srv.url)).body == b"all of it"
            assert (await pool.request("GET", srv.url)).body == b"all of it"
            assert srv.connections == 2
            await pool.aclose()

    run(main())


def test_a_connection_closed_while_idle_is_not_reused() -> None:
    async def one_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                             srv: Scripted) -> None:
        await srv.read_request(reader)
        writer.write(answer(b"ok"))  # keep-alive by the headers, then closed anyway

    async def main() -> None:
        async with Scripted(one_then_close) as srv:
            pool = UpstreamPool(retry_stale=False)
            assert (await pool.request("POST", srv.url, None, b"1")).body == b"ok"
            await asyncio.sleep(0.05)  # the FIN arrives while the connection is idle
            assert (await pool.request("POST", srv.url, None, b"2")).body == b"ok"
            assert (srv.connections, srv.requests) == (2, 2)
            await pool.aclose()

    run(main())


async def drop_second_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                              srv: Scripted) -> None:
    """Answer one request, then close as the next one arrives: the keep-alive race."""
    await srv.read_request(reader)
    writer.write(answer(b"ok"))
    await reader.readuntil(b"\r\n\r\n")


def test_a_stale_reused_connection_is_retried_once_on_a_fresh_one() -> None:
    async def main() -> None:
        async with Scripted(drop_second_request) as srv:
            pool = UpstreamPool()
            for _ in range(3):
                assert (await pool.request("POST", srv.url, None, b"{}")).body == b"ok"
            assert (srv.connections, srv.requests) == (3, 3)
            await pool.aclose()

    run(main())


def test_no_retry_on_a_fresh_connection_or_when_disabled() -> None:
    async def close_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                            srv: Scripted) -> None:
        await srv.read_request(reader)

    async def main() -> None:
        async with Scripted(close_at_once) as srv:
            pool = UpstreamPool()
            with pytest.raises(UpstreamDisconnected) as info:
                await pool.request("POST", srv.url, None, b"{}")
            assert info.value.request_sent and srv.requests == 1
        async with Scripted(drop_second_request) as srv:
            pool = UpstreamPool(retry_stale=False)
            await pool.request("POST", srv.url, None, b"{}")
            with pytest.raises(UpstreamDisconnected):
                await pool.request("POST", srv.url, None, b"{}")
            assert srv.connections == 1

    run(main())


@pytest.mark.parametrize("chunked", [False, True])
def test_a_reset_mid_body_raises(chunked: bool) -> None:
    async def reset_mid_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                             srv: Scripted) -> None:
        await srv.read_request(reader)
        if chunked:
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        else:
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten b")
        await writer.drain()
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        writer.transport.abort()  # RST

    async def main() -> None:
        async with Scripted(reset_mid_body) as srv:
            pool = UpstreamPool()
            with pytest.raises(UpstreamDisconnected, match="mid-body"):
                await pool.request("POST", srv.url, None, b"{}")
            stream = await pool.stream("POST", srv.url, None, b"{}")
            got = []
            with pytest.raises(UpstreamDisconnected):
                async for chunk in stream:
                    got.append(chunk)
            assert b"".join(got) == (b"first" if chunked else b"only ten b")

    run(main())


async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       srv: Scripted) -> None:
    await srv.read_request(reader)
    await asyncio.sleep(10)


def test_first_byte_total_and_pool_timeouts_are_distinct() -> None:
    async def head_then_stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                              srv: Scripted) -> None:
        await srv.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nsome")
        await asyncio.sleep(10)

    async def main() -> None:
        async with Scripted(never_answer) as srv:
            pool = UpstreamPool(max_connections_per_host=1)
            with pytest.raises(UpstreamFirstByteTimeout):
                await pool.request("POST", srv.url, None, b"{}", first_byte_timeout_s=0.1)
            stalled = asyncio.create_task(pool.request("POST", srv.url, None, b"{}"))
            await asyncio.sleep(0.05)
            with pytest.raises(UpstreamPoolTimeout):
                await pool.request("POST", srv.url, None, b"{}", connect_timeout_s=0.1)
            stalled.cancel()
        async with Scripted(head_then_stall) as srv:
            pool = UpstreamPool()
            with pytest.raises(UpstreamTotalTimeout):
                await pool.request("POST", srv.url, None, b"{}", total_timeout_s=0.2)
            stream = await pool.stream("POST", srv.url, None, b"{}", total_timeout_s=0.2)
            with pytest.raises(UpstreamTotalTimeout):
                async for _ in stream:
                    pass

    run(main())


def test_connect_timeout_on_a_listener_whose_backlog_is_full() -> None:
    async def main() -> None:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        for _ in range(4):  # fill the accept queue; further SYNs are dropped
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            fillers.append(s)
        await asyncio.sleep(0.05)
        pool = UpstreamPool(connect_timeout_s=0.2)
        try:
            with pytest.raises(UpstreamConnectTimeout):
                await pool.request("GET", f"http://127.0.0.1:{port}/")
        finally:
            for s in [*fillers, listener]:
                s.close()

    run(main())
