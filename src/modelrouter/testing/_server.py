"""``FakeProvider``: a real HTTP/1.1 server on 127.0.0.1 speaking the four vendor wire formats.

stdlib only, serving from a daemon thread, so it works under any event loop and in a
subprocess. One thread per connection; hung handlers wait on the server's stop event.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import socketserver
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from modelrouter.testing import _formats
from modelrouter.testing._faults import Fault, ModelSettings
from modelrouter.testing._wire import (
    Answer,
    Prompt,
    Wire,
    WireError,
    auto_cached_tokens,
    compose_answer,
    read_anthropic,
    read_cohere,
    read_gemini,
    read_openai,
)

ANY_MODEL = "*"
_GEMINI_PATH = re.compile(r"^/v1(?:beta|alpha)?/models/(?P<model>[^:/]+):(?P<verb>\w+)$")
_HTML = (b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
         b"<body><h1>502 Bad Gateway</h1><p>fake provider</p></body></html>")


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the fake received (control-API calls are not recorded)."""

    method: str
    path: str  # with the query string
    headers: Mapping[str, str]  # names lowercased
    body: Any  # parsed JSON, or None when the body was empty or not JSON
    wire: str  # "openai" | "anthropic" | "gemini" | "cohere" | "" (no known endpoint)
    model: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "headers": dict(self.headers),
                "body": self.body, "wire": self.wire, "model": self.model}


@dataclass
class _State:
    requests: list[RecordedRequest] = field(default_factory=list)
    scripts: dict[str, deque[Fault]] = field(default_factory=dict)
    always: dict[str, Fault] = field(default_factory=dict)
    settings: dict[str, ModelSettings] = field(default_factory=dict)
    prompts: dict[str, deque[str]] = field(default_factory=dict)
    models: dict[str, None] = field(default_factory=dict)  # insertion-ordered set
    seq: int = 0


class FakeProvider:
    """A deterministic fake of OpenAI, Anthropic, Gemini and Cohere, with scripted faults.

    Example::

        with FakeProvider() as fake:
            fake.script("gpt-x", [Fault.rate_limit(retry_after=2), Fault.ok()])
            httpx.post(f"{fake.base_url}/v1/chat/completions", json={...})  # 429, then 200
            assert fake.calls("gpt-x") == 1
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, api_key: str | None = None,
        log_requests: bool = False,
    ) -> None:
        self.host = host
        self.api_key = api_key
        self.log_requests = log_requests
        self._port = port
        self._lock = threading.Lock()
        self._state = _State()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeProvider:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server((self.host, self._port), _Handler, self)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
            name=f"FakeProvider:{self._port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; hung and idle connections are closed, nothing waits on them."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """e.g. ``http://127.0.0.1:54321`` (no trailing slash, no ``/v1``)."""
        return f"http://{self.host}:{self._port}"

    def endpoints(self, model: str = "{model}") -> dict[str, str]:
        """The four chat endpoints by wire format name."""
        return {
            "openai": f"{self.base_url}/v1/chat/completions",
            "anthropic": f"{self.base_url}/v1/messages",
            "gemini": f"{self.base_url}/v1beta/models/{model}:generateContent",
            "cohere": f"{self.base_url}/v2/chat",
        }

    # -- scripting ------------------------------------------------------------------------------

    def script(self, model: str, faults: Iterable[Fault]) -> None:
        """Faults for the next requests to ``model`` (``"*"``: any model), one per request, in
        order; then normal answers. Replaces the model's earlier script."""
        queue = deque(faults)
        with self._lock:
            self._state.scripts[model] = queue
            self._see(model)

    def always(self, model: str, fault: Fault | None) -> None:
        """A fault for every request to ``model`` once its script is used up; None clears."""
        with self._lock:
            if fault is None:
                self._state.always.pop(model, None)
            else:
                self._state.always[model] = fault
            self._see(model)

    def configure(
        self, model: str, *, reply: str | None = None, cached_tokens: int | None = None,
        reasoning_tokens: int = 0, always_tool_call: bool = False,
    ) -> None:
        """How ``model`` (``"*"``: any model without its own settings) answers; see
        ``ModelSettings``."""
        settings = ModelSettings(reply, cached_tokens, reasoning_tokens, always_tool_call)
        with self._lock:
            self._state.settings[model] = settings
            self._see(model)

    def reset(self) -> None:
        """Forget requests, scripts, settings and the prompt cache."""
        with self._lock:
            self._state = _State()

    # -- inspection -----------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the requests received so far, oldest first."""
        with self._lock:
            return list(self._state.requests)

    def calls(self, model: str | None = None) -> int:
        """How many requests were received for ``model`` (all models when None)."""
        with self._lock:
            return sum(1 for r in self._state.requests if model is None or r.model == model)

    # -- used by the handler --------------------------------------------------------------------

    def _see(self, model: str) -> None:
        if model != ANY_MODEL:
            self._state.models.setdefault(model, None)

    def _record(self, request: RecordedRequest) -> int:
        with self._lock:
            self._state.requests.append(request)
            if request.model:
                self._see(request.model)
            self._state.seq += 1
            return self._state.seq

    def _next_fault(self, model: str) -> Fault | None:
        with self._lock:
            for key in (model, ANY_MODEL):
                queue = self._state.scripts.get(key)
                if queue:
                    return queue.popleft()
            return self._state.always.get(model) or self._state.always.get(ANY_MODEL)

    def _answer_for(self, prompt: Prompt) -> Answer:
        with self._lock:
            settings = self._state.settings.get(
                prompt.model, self._state.settings.get(ANY_MODEL, ModelSettings()))
            earlier = self._state.prompts.setdefault(prompt.model, deque(maxlen=32))
            cached = auto_cached_tokens(prompt.text, list(earlier))
            earlier.append(prompt.text)
        return compose_answer(prompt, settings, cached)

    def _models(self) -> list[str]:
        with self._lock:
            return list(self._state.models)

    def _control(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        """The ``/_fake/*`` API, for scripting a fake running in another process."""
        if (method, path) == ("GET", "/_fake/requests"):
            return 200, {"requests": [r.to_dict() for r in self.requests]}
        if (method, path) == ("POST", "/_fake/reset"):
            self.reset()
            return 200, {"ok": True}
        if method != "POST" or path not in ("/_fake/script", "/_fake/configure"):
            return 404, {"error": f"no control endpoint {method} {path}"}
        if not isinstance(body, Mapping) or not isinstance(body.get("model"), str):
            return 400, {"error": "body must be a JSON object with a 'model' string"}
        try:
            if path == "/_fake/configure":
                settings = ModelSettings.from_dict({k: v for k, v in body.items() if k != "model"})
                self.configure(body["model"], **settings.to_dict())
                return 200, {"ok": True}
            faults = [Fault.from_dict(item) for item in body.get("faults") or []]
            if body.get("always"):
                if len(faults) > 1:
                    return 400, {"error": "'always' takes at most one fault"}
                self.always(body["model"], faults[0] if faults else None)
            else:
                self.script(body["model"], faults)
        except (TypeError, ValueError) as exc:
            return 400, {"error": str(exc)}
        return 200, {"ok": True}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler],
                 owner: FakeProvider) -> None:
        self.owner = owner
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn), slow on some hosts.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def track(self, connection: socket.socket, add: bool) -> None:
        with self._connections_lock:
            (self._connections.add if add else self._connections.discard)(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-answer is routine here; anything else is a bug in the fake.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Aborted(Exception):
    """The fake stopped, or a fault ends the connection without a complete answer."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "modelrouter-fake/1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle adds 40 ms a reply.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.owner.log_requests:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    # -- dispatch -------------------------------------------------------------------------------

    def _handle(self) -> None:
        try:
            self._dispatch()
        except (_Aborted, OSError):
            self.close_connection = True

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                data += self.rfile.read(size)
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return data
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def _dispatch(self) -> None:
        owner = self.server.owner
        url = urlsplit(self.path)
        raw = self._read_body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        if url.path.startswith("/_fake/"):
            status, payload = owner._control(self.command, url.path, body)
            return self._send_json(status, payload)
        if (self.command, url.path) == ("GET", "/v1/models"):
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"}
                    for m in owner._models()]
            return self._send_json(200, {"object": "list", "data": data})

        wire, model, stream = self._route(url.path, parse_qs(url.query))
        if model is None and isinstance(body, Mapping) and isinstance(body.get("model"), str):
            model = body["model"]
        headers = {name.lower(): value for name, value in self.headers.items()}
        seq = owner._record(RecordedRequest(self.command, self.path, headers, body,
                                            wire or "", model))
        if wire is None:
            return self._send_json(404, _formats.error_body(
                "openai", 404, f"Unknown request URL: {self.command} {url.path}"))
        if self.command != "POST":
            return self._send_json(405, _formats.error_body(wire, 405, "Use POST."))
        ids = _formats.Ids(seq, int(time.time()))
        if not isinstance(body, Mapping):
            return self._send_error(wire, ids, 400, "The request body is not a JSON object.")
        if not self._authorised(wire, headers, parse_qs(url.query)):
            return self._send_error(wire, ids, 401)
        try:
            if wire == "openai":
                prompt = read_openai(body)
            elif wire == "anthropic":
                prompt = read_anthropic(body)
            elif wire == "cohere":
                prompt = read_cohere(body)
            else:
                prompt = read_gemini(body, model or "", stream)
        except WireError as exc:
            return self._send_error(wire, ids, 400, str(exc))
        self._answer(prompt, ids, owner._next_fault(prompt.model) or Fault.ok())

    def _route(self, path: str, query: dict[str, list[str]]) -> tuple[Wire | None, str | None,
                                                                          bool]:
        if path == "/v1/chat/completions":
            return "openai", None, False
        if path == "/v1/messages":
            return "anthropic", None, False
        if path == "/v2/chat":
            return "cohere", None, False
        match = _GEMINI_PATH.match(path)
        if match and match["verb"] in ("generateContent", "streamGenerateContent"):
            return "gemini", match["model"], match["verb"] == "streamGenerateContent"
        return None, None, False

    def _authorised(self, wire: Wire, headers: Mapping[str, str],
                    query: dict[str, list[str]]) -> bool:
        key = self.server.owner.api_key
        if key is None:
            return True
        if wire == "anthropic":
            return headers.get("x-api-key") == key
        if wire == "gemini":
            return key in (headers.get("x-goog-api-key"), *query.get("key", []))
        return headers.get("authorization") == f"Bearer {key}"

    # -- answering ------------------------------------------------------------------------------

    def _answer(self, prompt: Prompt, ids: _formats.Ids, fault: Fault) -> None:
        wire, stopping = prompt.wire, self.server.owner._stopping
        if fault.kind in ("rate_limit", "server_error", "status"):
            status = fault.status_code or 500
            headers = list(fault.headers)
            if fault.kind == "rate_limit":
                headers += fault.retry_headers()
            if fault.body is None:
                return self._send_error(wire, ids, status, headers=headers)
            text = fault.body if isinstance(fault.body, str) else json.dumps(fault.body)
            return self._send(status, text.encode(), "application/json", ids, wire, headers)
        if fault.kind == "connection_reset":
            return self._reset()
        if fault.kind == "hang" and stopping.wait(fault.seconds):
            return self._reset()
        if fault.kind == "wrong_content_type":
            return self._send(200, _HTML, "text/html; charset=utf-8", ids, wire)
        delay = fault.seconds if fault.kind == "slow_first_token" else 0.0
        cut = fault.after_chunks if fault.kind == "cut_stream" else None
        answer = self.server.owner._answer_for(prompt)
        sse = wire != "gemini" or parse_qs(urlsplit(self.path).query).get("alt") == ["sse"]
        if prompt.stream and sse:
            events = _formats.stream(prompt, answer, ids)
            if fault.kind == "malformed_json":
                first = next((i for i, e in enumerate(events) if e.content), 0)
                broken = events[first]
                events[first] = _formats.SseEvent(broken.data[: len(broken.data) // 2],
                                                  broken.event, True, False)
            return self._send_stream(wire, ids, events, delay, cut)
        if prompt.stream:  # Gemini without alt=sse streams one JSON array
            chunks = [event.data for event in _formats.stream(prompt, answer, ids)]
            payload = ("[" + ",\r\n".join(chunks) + "]").encode()
        else:
            payload = json.dumps(_formats.body(prompt, answer, ids)).encode()
        if fault.kind == "malformed_json":
            payload = payload[: len(payload) // 2]
        self._send(200, payload, "application/json", ids, wire, delay=delay,
                   cut=None if cut is None else len(payload) // 2)

    def _start(self, status: int, content_type: str, ids: _formats.Ids | None, wire: Wire | None,
               headers: Iterable[tuple[str, str]] = (), length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        if ids is not None and wire is not None:
            self.send_header(_formats.REQUEST_ID_HEADER[wire], ids.request)
        for name, value in headers:
            self.send_header(name, value)
        if length is None:
            self.send_header("transfer-encoding", "chunked")
            self.send_header("cache-control", "no-cache")
        else:
            self.send_header("content-length", str(length))
        self.end_headers()

    def _send(self, status: int, payload: bytes, content_type: str, ids: _formats.Ids | None,
              wire: Wire | None, headers: Iterable[tuple[str, str]] = (), *, delay: float = 0.0,
              cut: int | None = None) -> None:
        self._start(status, content_type, ids, wire, headers, len(payload))
        self._wait(delay)
        if cut is not None:
            self.wfile.write(payload[:cut])
            raise _Aborted
        self.wfile.write(payload)

    def _send_json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", None, None)

    def _send_error(self, wire: Wire, ids: _formats.Ids, status: int, message: str | None = None,
                    headers: Iterable[tuple[str, str]] = ()) -> None:
        payload = json.dumps(_formats.error_body(wire, status, message)).encode()
        self._send(status, payload, "application/json", ids, wire, headers)

    def _send_stream(self, wire: Wire, ids: _formats.Ids, events: list[_formats.SseEvent],
                     delay: float, cut: int | None) -> None:
        self._start(200, "text/event-stream; charset=utf-8", ids, wire)
        self._wait(delay)
        sent = 0
        for event in events:
            if cut is not None and (event.terminal or (sent == cut and (cut > 0 or event.content))):
                raise _Aborted
            data = event.encode(wire)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            sent += event.content
        self.wfile.write(b"0\r\n\r\n")

    def _wait(self, seconds: float) -> None:
        if seconds > 0 and self.server.owner._stopping.wait(seconds):
            raise _Aborted

    def _reset(self) -> None:
        """Close with an RST (SO_LINGER 0) and no response."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()  # the socket only really closes once its file objects are closed
        self.connection.close()
        self.close_connection = True

