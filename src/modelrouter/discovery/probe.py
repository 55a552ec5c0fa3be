"""Is a free model answering today? One tiny chat request per model, a few at a time.

Each probe asks for at most ``PROBE_MAX_TOKENS`` tokens through an OpenAI-compatible endpoint
(OpenRouter's by default), within ``timeout_s``, and records ok or the error class and the
latency. At most ``concurrency`` probes are in flight (an ``asyncio.Semaphore``); free models
share tight rate limits, so a small number is kinder and no slower in practice.

Example::

    results = await probe_models(["openai/gpt-oss-20b:free"], api_key=key, concurrency=4)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from modelrouter.adapters.base import ChatRequest, Endpoint, Timeouts
from modelrouter.adapters.openai_compat import OpenAICompatAdapter
from modelrouter.errors import ProviderStatusError, RouterError

DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
API_KEY_ENV = "OPENROUTER_API_KEY"
PROBE_MAX_TOKENS = 8
DEFAULT_CONCURRENCY = 4
DEFAULT_TIMEOUT_S = 20.0
PROBE_PROMPT = "Reply with the single word: OK"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One model's answer to the probe: ok, or the error class; latency either way."""

    model: str  # OpenRouter's id, as sent
    ok: bool
    latency_s: float
    error_class: str | None = None
    error: str | None = None
    status_code: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "latency_ms": round(self.latency_s * 1000, 1),
                "error_class": self.error_class, "error": self.error,
                "status_code": self.status_code}

    @classmethod
    def from_dict(cls, model: str, data: dict[str, Any]) -> ProbeResult:
        return cls(model, bool(data["ok"]), float(data["latency_ms"]) / 1000,
                   data.get("error_class"), data.get("error"), data.get("status_code"))


async def probe_models(
    models: Sequence[str],
    *,
    base_url: str = DEFAULT_BASE_URL,
    api_key: str | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    client: httpx.AsyncClient | None = None,
    on_done: Callable[[ProbeResult], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> list[ProbeResult]:
    """Probe every model (OpenRouter ids), in the given order; never raises for a model."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    owned = client is None
    http = client or httpx.AsyncClient(timeout=None)
    adapter = OpenAICompatAdapter(http, Endpoint(base_url, api_key, provider="openrouter"))
    gate = asyncio.Semaphore(concurrency)

    async def one(model: str) -> ProbeResult:
        async with gate:
            result = await _probe(adapter, model, timeout_s, clock)
        if on_done is not None:
            on_done(result)
        return result

    try:
        return list(await asyncio.gather(*(one(model) for model in models)))
    finally:
        if owned:
            await http.aclose()


async def _probe(adapter: OpenAICompatAdapter, model: str, timeout_s: float,
                 clock: Callable[[], float]) -> ProbeResult:
    request = ChatRequest(model=model, messages=[{"role": "user", "content": PROBE_PROMPT}],
                          max_tokens=PROBE_MAX_TOKENS, temperature=0.0)
    timeouts = Timeouts(connect_s=min(5.0, timeout_s), first_token_s=timeout_s,
                        total_s=timeout_s)
    started = clock()
    try:
        # The adapter bounds the call by total_s; the outer bound is a backstop, not the rule.
        response = await asyncio.wait_for(adapter.send(request, timeouts), timeout_s + 1.0)
    except RouterError as exc:
        status = exc.status_code if isinstance(exc, ProviderStatusError) else None
        return ProbeResult(model, False, clock() - started, type(exc).__name__,
                           _one_line(str(exc)), status)
    except TimeoutError:
        return ProbeResult(model, False, clock() - started, "TimeoutError",
                           f"no answer within {timeout_s:g}s")
    latency = clock() - started
    if response.finish_reason == "error":
        return ProbeResult(model, False, latency, "ProviderError", "the answer ended in error")
    return ProbeResult(model, True, latency)


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
