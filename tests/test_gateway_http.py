"""The gateway's HTTP server, on real sockets on 127.0.0.1, and the pass-through app end to end."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httptools
import httpx
import pytest

from modelrouter.gateway.http import Limits, Request, Response, Server, StreamResponse
from modelrouter.gateway.passthrough import Passthrough
from modelrouter.gateway.upstream import UpstreamPool


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 5))  # type: ignore[arg-type]


class Reply:
    """One parsed HTTP response (status, lower-case headers, de-chunked body)."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.complete = False
        self.messages: list[bytes] = []  # bodies of every complete response, pipelined ones too
        self.parser = httptools.HttpResponseParser(self)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode().lower()] = value.decode()

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.complete = True
        self.messages.append(b"".join(self.chunks))
        self.chunks = []

    @property
    def body(self) -> bytes:
        return self.messages[0] if self.messages else b"".join(self.chunks)


async def read_reply(
    reader: asyncio.StreamReader, until: Callable[[Reply], bool] | None = None
) -> Reply:
    """Read one response; with ``until``, stop as soon as it holds (the reply may be partial)."""
    reply = Reply()
    while not reply.complete and not (until and until(reply)):
        data = await reader.read(65536)
        if not data:
            break
        reply.parser.feed_data(data)
    return reply


async def echo(request: Request) -> Response:
    return Response.json(
        {"method": request.method, "path": request.path, "query": request.query,
         "body_len": len(request.body), "body_hex": request.body[:16].hex(),
         "x": request.headers.get("x-test")}
    )


async def started(handler: Any, limits: Limits | None = None) -> Server:
    server = Server(handler, limits)
    await server.start("127.0.0.1", 0)
    return server


def get(path: str = "/", extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nhost: t\r\n{extra}\r\n".encode()


def test_keep_alive_serves_several_requests_on_one_connection() -> None:
    async def main() -> None:
        server = await started(echo)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        for i in range(3):
            writer.write(get(f"/a{i}?q={i}", "x-test: yes\r\n"))
            reply = await read_reply(reader)
            assert reply.status == 200
            assert json.loads(reply.body) | {} == {
                "method": "GET", "path": f"/a{i}", "query": f"q={i}", "body_len": 0,
                "body_hex": "", "x": "yes"}
            assert "connection" not in reply.headers
        assert len(server.connections) == 1
        writer.close()
        await server.shutdown()

    run(main())


def test_accepted_and_upstream_sockets_have_tcp_nodelay() -> None:
    async def main() -> None:
        server = await started(echo)
        pool = UpstreamPool()
        await pool.request("GET", f"http://127.0.0.1:{server.port}/")
        (conn,) = server.connections
        (host,) = pool._hosts.values()
        for transport in (conn.transport, host.idle[0].transport):
            sock = transport.get_extra_info("socket")
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        await pool.aclose()
        await server.shutdown()

    run(main())


def test_pipelined_requests_are_answered_in_order() -> None:
    async def main() -> None:
        server = await started(echo)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(get("/one") + get("/two") + get("/three"))
        reply = await read_reply(reader, until=lambda r: len(r.messages) == 3)
        paths = [json.loads(body)["path"] for body in reply.messages]
        assert paths == ["/one", "/two", "/three"]
        writer.close()
        await server.shutdown()

    run(main())


def test_stream_chunks_reach_the_client_before_the_handler_finishes() -> None:
    async def main() -> None:
        go_on = asyncio.Event()

        async def chunks() -> AsyncIterator[bytes]:
            yield b"data: first\n\n"
            await go_on.wait()  # only the client, having seen the first chunk, lets us go on
            yield b"data: second\n\n"

        async def handler(request: Request) -> StreamResponse:
            return StreamResponse(200, {"x-extra": "1"}, chunks())

        server = await started(handler)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(get())
        reply = await read_reply(reader, until=lambda r: bool(r.chunks))
        assert reply.chunks == [b"data: first\n\n"] and not reply.complete
        assert reply.headers["transfer-encoding"] == "chunked"
        assert reply.headers["content-type"] == "text/event-stream"
        assert reply.headers["x-extra"] == "1"
        go_on.set()
        while not reply.complete:
            reply.parser.feed_data(await reader.read(65536))
        assert reply.body == b"data: first\n\ndata: second\n\n"
        writer.write(get())  # the connection is still usable
        assert (await read_reply(reader, until=lambda r: bool(r.chunks))).status == 200
        go_on.set()
        writer.close()
        await server.shutdown()

    run(main())


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_the_limit_is_413_and_the_connection_closes(chunked: bool) -> None:
    async def main() -> None:
        server = await started(echo, Limits(max_body_bytes=1000))
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        if chunked:  # no length announced: the limit applies as the body arrives
            writer.write(b"POST / HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n")
            writer.write(b"%x\r\n%s\r\n" % (1500, b"x" * 1500))
        else:
            writer.write(b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 50000000\r\n\r\nxx")
        reply = await read_reply(reader)
        assert reply.status == 413
        assert json.loads(reply.body)["error"]["code"] == 413
        assert reply.headers["connection"] == "close"
        assert await reader.read() == b""
        await server.shutdown()

    run(main())


def test_garbage_is_400_and_the_server_keeps_serving() -> None:
    async def main() -> None:
        server = await started(echo)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"\x00\x01\x02 not http at all\r\n\r\n")
        reply = await read_reply(reader)
        assert reply.status == 400
        assert json.loads(reply.body)["error"]["type"] == "invalid_request_error"
        assert await reader.read() == b""
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(get("/after"))
        assert json.loads((await read_reply(reader)).body)["path"] == "/after"
        writer.close()
        await server.shutdown()

    run(main())


def test_too_many_headers_is_431() -> None:
    async def main() -> None:
        server = await started(echo, Limits(max_headers=5))
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(get("/", "".join(f"x-h{i}: v\r\n" for i in range(10))))
        assert (await read_reply(reader)).status == 431
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET / HTTP/1.1\r\nx-big: " + b"a" * 40000)  # never ends its head
        assert (await read_reply(reader)).status == 431
        await server.shutdown()

    run(main())


def test_invalid_utf8_body_reaches_the_handler_as_bytes() -> None:
    async def main() -> None:
        server = await started(echo)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"POST /x HTTP/1.1\r\nhost: t\r\ncontent-length: 4\r\n\r\n\xff\xfe\xc3\x28")
        reply = await read_reply(reader)
        assert json.loads(reply.body)["body_hex"] == "fffec328"
        writer.close()
        await server.shutdown()

    run(main())


def test_connection_close_is_honoured() -> None:
    async def main() -> None:
        server = await started(echo)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(get("/", "connection: close\r\n"))
        reply = await read_reply(reader)
        assert reply.status == 200 and reply.headers["connection"] == "close"
        assert await reader.read() == b""
        await server.shutdown()

    run(main())


def test_a_handler_exception_is_a_500_json_body() -> None:
    async def boom(request: Request) -> Response:
        raise RuntimeError("secret detail")

    async def main() -> None:
        server = await started(boom)
        async with httpx.AsyncClient() as client:
            resp = await client.get(f"http://127.0.0.1:{server.port}/")
            assert resp.status_code == 500
            assert resp.json()["error"]["type"] == "server_error"
            assert "secret" not in resp.text
            assert (await client.get(f"http://127.0.0.1:{server.port}/")).status_code == 500
        await server.shutdown()

    run(main())


@pytest.mark.parametrize("fail_after", [0, 1])
def test_a_failing_stream_is_a_500_or_a_visibly_truncated_body(fail_after: int) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(fail_after):
            yield b"data: one\n\n"
        raise RuntimeError("upstream went away")

    async def handler(request: Request) -> StreamResponse:
        return StreamResponse(200, None, chunks())

    async def main() -> None:
        server = await started(handler)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(get())
        reply = await read_reply(reader)
        if fail_after:  # the head went out already: the body never completes
            assert reply.status == 200 and reply.body == b"data: one\n\n" and not reply.complete
        else:
            assert reply.status == 500 and json.loads(reply.body)["error"]["code"] == 500
        assert await reader.read() == b""
        await server.shutdown()

    run(main())


def test_shutdown_finishes_the_request_in_flight_and_stops_accepting() -> None:
    async def main() -> None:
        entered, release = asyncio.Event(), asyncio.Event()

        async def slow(request: Request) -> Response:
            entered.set()
            await release.wait()
            return Response(200, b"done", content_type="text/plain")

        server = await started(slow)
        port = server.port
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        _, idle_writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(get())
        await entered.wait()
        stopping = asyncio.create_task(server.shutdown(timeout_s=3))
        await asyncio.sleep(0.05)
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", port)
        assert not stopping.done()
        release.set()
        reply = await read_reply(reader)
        assert (reply.status, reply.body) == (200, b"done")
        assert reply.headers["connection"] == "close"
        await stopping
        assert not server.connections
        idle_writer.close()

    run(main())


# -- the pass-through app, end to end with httpx -------------------------------------------

SSE_EVENTS = [b'data: {"n":%d}\n\n' % i for i in range(3)] + [b"data: [DONE]\n\n"]


async def fake_provider(request: Request) -> Response | StreamResponse:
    payload = json.loads(request.body)

    async def events() -> AsyncIterator[bytes]:
        for event in SSE_EVENTS:
            yield event

    if payload.get("stream"):
        return StreamResponse(200, None, events())
    return Response.json(
        {"object": "chat.completion", "model": payload["model"], "path": request.path})


def test_passthrough_relays_json_and_sse_and_checks_key_and_model() -> None:
    async def main() -> None:
        provider = await started(fake_provider)
        app = Passthrough({"mock-0": f"http://127.0.0.1:{provider.port}/v1/"}, "sk-good",
                          UpstreamPool())
        await app.start()
        gateway = await started(app)
        url = f"http://127.0.0.1:{gateway.port}/v1/chat/completions"
        good = {"authorization": "Bearer sk-good"}
        async with httpx.AsyncClient() as client:
            resp = await client.post(url, headers=good, json={"model": "mock-0", "messages": []})
            assert resp.status_code == 200
            assert resp.json() == {"object": "chat.completion", "model": "mock-0",
                                   "path": "/v1/chat/completions"}
            async with client.stream("POST", url, headers=good,
                                     json={"model": "mock-0", "stream": True}) as sse:
                assert sse.headers["content-type"] == "text/event-stream"
                assert b"".join([c async for c in sse.aiter_bytes()]) == b"".join(SSE_EVENTS)
            bad = await client.post(url, headers={"authorization": "Bearer sk-bad"}, json={})
            assert bad.status_code == 401
            missing = await client.post(url, json={"model": "mock-0"})
            assert missing.status_code == 401
            unknown = await client.post(url, headers=good, json={"model": "gpt-9"})
            assert unknown.status_code == 404 and "gpt-9" in unknown.json()["error"]["message"]
            garbage = await client.post(url, headers=good, content=b"\xff\xfe{")
            assert garbage.status_code == 400
        await gateway.shutdown()
        await app.close()
        await provider.shutdown()

    run(main())


def test_serve_forks_workers_that_all_stop_on_sigterm() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    cmd = [sys.executable, "-m", "modelrouter.gateway.passthrough", "--port", str(port),
           "--api-key", "k", "--workers", "2", "--upstream", "m=http://127.0.0.1:9/v1"]
    proc = subprocess.Popen(cmd)
    try:
        deadline = time.monotonic() + 5
        while True:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/health").status_code
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the workers did not start"
                time.sleep(0.05)
        assert status == 404
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(children) == 2
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
        for child in children:
            assert not Path(f"/proc/{child}").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
