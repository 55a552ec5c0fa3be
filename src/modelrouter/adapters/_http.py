"""Shared I/O for the adapters: the one place where vendor failures become our errors.

Adapters only translate (build a body, parse a body or a stream of SSE events); ``send_json``
and ``stream_sse`` do the HTTP, enforce the three timeouts and funnel every failure through
``vendor_errors`` — the single ``except`` site — and ``to_provider_error``.

Timeouts: ``connect_s`` is httpx's connect (and pool) timeout. A non-streamed answer arrives
whole, so ``send_json`` bounds each read by ``total_s``; ``stream_sse`` bounds each read by
``first_token_s`` and, until the parser yields the first chunk with content, the whole wait
by ``first_token_s`` too. Both bound the whole call by ``total_s``.

A malformed 200 (bad JSON, wrong content type, missing fields) raises the base
``ProviderError``, which is not retryable: the same request would likely get the same answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from modelrouter.adapters.base import Response, StreamChunk, Timeouts
from modelrouter.catalog.pricing import Usage
from modelrouter.errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderStatusError,
    ProviderTimeoutError,
    status_error_class,
)
from modelrouter.routing.retry import parse_retry_after

JSON = Any


@dataclass(slots=True)
class Call:
    """One provider call: whom it is for and what we learnt on the way."""

    provider: str
    model: str
    request_id_header: str | None = None
    request_id: str | None = None
    # Which timeout an expiring asyncio deadline stands for at this moment.
    phase: str = "total"

    def context(self) -> dict[str, Any]:
        return {"provider": self.provider, "model": self.model, "request_id": self.request_id}

    def malformed(self, detail: str, body: Any = None) -> ProviderError:
        return ProviderError(
            f"malformed response from {self.provider} ({self.model}): {detail}",
            body=body, **self.context(),
        )

    def ended_early(self) -> ProviderConnectionError:
        return ProviderConnectionError(
            f"stream ended early: {self.provider} ({self.model}) closed the stream before its "
            "terminal event", **self.context(),
        )


# ----------------------------------------------------------------------------- error mapping


def vendor_message(body: JSON) -> str | None:
    """The vendor's own error text, from any of the four error body shapes."""
    if isinstance(body, list) and body:
        return vendor_message(body[0])
    if isinstance(body, str):
        return body.strip()[:500] or None
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        message = error.get("message")
        status = error.get("status") or error.get("type")
        if isinstance(message, str):
            return f"{message} ({status})" if isinstance(status, str) else message
    if isinstance(error, str):
        return error
    for key in ("message", "detail"):
        if isinstance(body.get(key), str):
            return str(body[key])
    return None


def status_error(
    status: int, body: JSON, headers: Mapping[str, str], call: Call
) -> ProviderStatusError:
    detail = vendor_message(body)
    message = f"{call.provider} ({call.model}) returned HTTP {status}"
    return status_error_class(status)(
        f"{message}: {detail}" if detail else message,
        status_code=status,
        headers=dict(headers),
        retry_after=parse_retry_after(headers),
        body=body,
        **call.context(),
    )


def to_provider_error(exc: BaseException, call: Call) -> ProviderError:
    """The one mapping from a transport, timeout or decoding failure to our error tree."""
    who = f"{call.provider} ({call.model})"
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return ProviderTimeoutError(f"{who}: connect timeout", kind="connect", **call.context())
    if isinstance(exc, httpx.TimeoutException):
        return ProviderTimeoutError(
            f"{who}: no data before the read timeout", kind="first_token", **call.context()
        )
    if isinstance(exc, TimeoutError):
        what = "no first token in time" if call.phase == "first_token" else "total timeout"
        return ProviderTimeoutError(f"{who}: {what}", kind=call.phase, **call.context())
    if isinstance(exc, httpx.DecodingError | httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return ProviderError(f"{who}: {type(exc).__name__}: {exc}", **call.context())
    if isinstance(exc, json.JSONDecodeError):
        return call.malformed(f"invalid JSON ({exc})", exc.doc[:2000])
    if isinstance(exc, httpx.HTTPError):
        return ProviderConnectionError(
            f"{who}: connection failed: {type(exc).__name__}: {exc}", **call.context()
        )
    return call.malformed(f"{type(exc).__name__}: {exc}")


@contextlib.asynccontextmanager
async def vendor_errors(call: Call) -> AsyncIterator[None]:
    """The single ``except`` site shared by every adapter."""
    try:
        yield
    except (
        httpx.HTTPError, TimeoutError, ValueError, KeyError, TypeError, IndexError, AttributeError
    ) as exc:  # ValueError etc.: a body whose JSON or shape is not what the vendor documents
        raise to_provider_error(exc, call) from exc


# ----------------------------------------------------------------------------- helpers


def httpx_timeout(timeouts: Timeouts, *, streaming: bool) -> httpx.Timeout:
    read = timeouts.first_token_s if streaming else timeouts.total_s
    return httpx.Timeout(connect=timeouts.connect_s, read=read, write=read, pool=timeouts.connect_s)


def count(value: Any) -> int:
    """A token count from a vendor body; anything but a whole number ≥ 0 counts as 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(0, int(value))


def usage(
    input_tokens: Any = 0, output_tokens: Any = 0, *, cached: Any = 0, cache_write: Any = 0,
    reasoning: Any = 0,
) -> Usage:
    """Our Usage from vendor counts, clamped so vendor quirks never break a call."""
    total_in, total_out = count(input_tokens), count(output_tokens)
    read = min(count(cached), total_in)
    write = min(count(cache_write), total_in - read)
    thinking = count(reasoning)
    return Usage(
        input_tokens=total_in,
        output_tokens=max(total_out, thinking),
        cached_input_tokens=read,
        cache_write_tokens=write,
        reasoning_tokens=thinking,
    )


def text_of(content: Any) -> str:
    """The text of an OpenAI message ``content``: a string or a list of parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(
        str(part.get("text", "")) for part in content
        if isinstance(part, Mapping) and part.get("type") in ("text", None)
    )


def tool_arguments(arguments: Any, call: Call) -> dict[str, Any]:
    """An OpenAI tool call's ``arguments`` (JSON text) as the object other vendors want."""
    if isinstance(arguments, Mapping):
        return dict(arguments)
    if not arguments:
        return {}
    try:
        parsed = json.loads(arguments)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ProviderError(
            f"tool call arguments are not a JSON object: {str(arguments)[:200]!r}",
            **call.context(),
        )
    return parsed


def data_url(url: str) -> tuple[str, str] | None:
    """``(media_type, base64)`` of a ``data:<type>;base64,<data>`` URL, else None."""
    if not url.startswith("data:") or ";base64," not in url:
        return None
    head, _, data = url.partition(";base64,")
    return head[len("data:"):] or "application/octet-stream", data


def _media_type(response: httpx.Response) -> str:
    media: str = response.headers.get("content-type", "")
    return media.split(";")[0].strip().lower()


def decode_json(response: httpx.Response, call: Call) -> dict[str, Any]:
    media = _media_type(response)
    if media and media != "application/json" and not media.endswith("+json"):
        raise call.malformed(f"expected JSON, got content type {media!r}", response.text[:2000])
    data = json.loads(response.content)  # JSONDecodeError: mapped in vendor_errors
    if not isinstance(data, dict):
        raise call.malformed("expected a JSON object", data)
    return data


def event_json(data: str, call: Call) -> dict[str, Any]:
    """One SSE ``data`` payload as a JSON object."""
    parsed = json.loads(data)  # JSONDecodeError: mapped in vendor_errors
    if not isinstance(parsed, dict):
        raise call.malformed("expected a JSON object in stream event", parsed)
    return parsed


def _error_body(response: httpx.Response) -> JSON:
    try:
        return json.loads(response.content)
    except ValueError:
        return response.text[:2000]


# ----------------------------------------------------------------------------- SSE


@dataclass(frozen=True, slots=True)
class SSEEvent:
    event: str  # "" when the server sent only data lines
    data: str


class SSEDecoder:
    """Server-sent events from lines (per the WHATWG spec; ``id``/``retry`` are ignored)."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []

    def feed(self, line: str) -> SSEEvent | None:
        if not line:
            return self.flush()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None

    def flush(self) -> SSEEvent | None:
        event = SSEEvent(self._event, "\n".join(self._data)) if self._data else None
        self._event, self._data = "", []
        return event


def _is_whole(event: SSEEvent) -> bool:
    """Whether an event cut off by the end of the body (no blank line after it) is complete."""
    if event.data == "[DONE]":
        return True
    try:
        json.loads(event.data)
    except ValueError:
        return False
    return True


# ----------------------------------------------------------------------------- the calls

ParseResponse = Callable[[dict[str, Any], Call], Response]
ParseStream = Callable[[AsyncIterator[SSEEvent], Call], AsyncGenerator[StreamChunk, None]]


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _encode(body: JSON) -> bytes:
    return _ENCODER.encode(body).encode("utf-8")


def _json_headers(headers: Mapping[str, str]) -> dict[str, str]:
    out = {name.lower(): value for name, value in headers.items()}
    out["content-type"] = "application/json"
    return out


def _note_request_id(response: httpx.Response, call: Call) -> None:
    if call.request_id_header:
        call.request_id = response.headers.get(call.request_id_header) or call.request_id


async def send_json(
    client: httpx.AsyncClient, url: str, *, headers: Mapping[str, str], body: JSON,
    timeouts: Timeouts, call: Call, parse: ParseResponse,
) -> Response:
    """POST a JSON body, check the status, decode the JSON answer and parse it."""
    async with vendor_errors(call):
        call.phase = "total"
        async with asyncio.timeout(timeouts.total_s):
            if hasattr(client, "raw_post"):  # the gateway's pool: no httpx objects per call
                response = await client.raw_post(
                    url, _json_headers(headers), _encode(body), connect_s=timeouts.connect_s,
                    read_s=timeouts.total_s, stream=False)
            else:
                response = await client.post(
                    url, headers=dict(headers), json=body,
                    timeout=httpx_timeout(timeouts, streaming=False),
                )
        _note_request_id(response, call)
        if response.status_code >= 400:
            raise status_error(response.status_code, _error_body(response), response.headers, call)
        return parse(decode_json(response, call), call)


async def stream_sse(
    client: httpx.AsyncClient, url: str, *, headers: Mapping[str, str], body: JSON,
    timeouts: Timeouts, call: Call, parse: ParseStream,
) -> AsyncIterator[StreamChunk]:
    """POST a JSON body and yield the chunks ``parse`` makes of the SSE events."""
    loop = asyncio.get_running_loop()
    first_token_at = loop.time() + timeouts.first_token_s
    total_at = loop.time() + timeouts.total_s
    seen_content = False

    def deadline() -> float:
        if not seen_content and first_token_at < total_at:
            call.phase = "first_token"
            return first_token_at
        call.phase = "total"
        return total_at

    async def read(awaitable: Any) -> Any:
        at = deadline()
        if loop.time() >= at:  # also when data is buffered and the read would not wait
            raise TimeoutError
        async with asyncio.timeout_at(at):
            return await awaitable

    async with vendor_errors(call):
        if hasattr(client, "raw_post"):  # the gateway's pool: no httpx objects per call
            response = await read(client.raw_post(
                url, _json_headers(headers), _encode(body), connect_s=timeouts.connect_s,
                read_s=timeouts.first_token_s, stream=True))
        else:
            request = client.build_request(
                "POST", url, headers=dict(headers), json=body,
                timeout=httpx_timeout(timeouts, streaming=True),
            )
            response = await read(client.send(request, stream=True))
        try:
            _note_request_id(response, call)
            if response.status_code >= 400:
                await read(response.aread())
                raise status_error(
                    response.status_code, _error_body(response), response.headers, call
                )
            media = _media_type(response)
            if media and media != "text/event-stream":
                await read(response.aread())
                raise call.malformed(
                    f"expected text/event-stream, got content type {media!r}",
                    response.text[:2000],
                )
            lines = response.aiter_lines()

            async def events() -> AsyncGenerator[SSEEvent, None]:
                decoder = SSEDecoder()
                while (line := await read(anext(lines, None))) is not None:
                    if (event := decoder.feed(line)) is not None:
                        yield event
                tail = decoder.flush()
                if tail is not None and _is_whole(tail):
                    yield tail

            async with contextlib.aclosing(events()) as source, contextlib.aclosing(
                parse(source, call)
            ) as chunks:
                async for chunk in chunks:
                    seen_content = seen_content or chunk.has_content
                    yield chunk
        finally:
            await response.aclose()
