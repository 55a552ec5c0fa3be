"""A fake LLM provider for tests: a real HTTP server speaking four vendor wire formats.

``FakeProvider`` listens on 127.0.0.1 (a free port by default) and answers, deterministically,

- OpenAI Chat Completions: ``POST /v1/chat/completions`` and ``GET /v1/models``
- Anthropic Messages: ``POST /v1/messages``
- Gemini: ``POST /v1beta/models/{model}:generateContent`` and ``:streamGenerateContent?alt=sse``
- Cohere v2: ``POST /v2/chat``

with streaming, tool calls, JSON mode, ``max_tokens`` cuts and realistic usage (the tokenizer is
``count_tokens``: 4 characters per token). The reply to a model is ``"[<model>] <the last user
message's words>"``. Faults are scripted per model (``"*"`` for any model) and consumed one per
request, then normal answers follow::

    from modelrouter.testing import FakeProvider, Fault

    with FakeProvider() as fake:
        fake.script("gpt-x", [Fault.rate_limit(retry_after=2), Fault.ok()])
        fake.always("gpt-y", Fault.server_error(503))
        fake.configure("gpt-z", reply="not json", reasoning_tokens=10)
        client = openai.OpenAI(base_url=f"{fake.base_url}/v1", api_key="x")
        ...
        assert fake.calls("gpt-x") == 2
        assert fake.requests[0].body["model"] == "gpt-x"

A fake started with ``modelrouter fake-provider`` is scripted over HTTP:
``POST /_fake/script {"model": "gpt-x", "faults": [{"kind": "rate_limit", "retry_after": 2}],
"always": false}``, ``POST /_fake/configure {"model": ..., "reply": ...}``,
``POST /_fake/reset`` and ``GET /_fake/requests``.
"""

from __future__ import annotations

from modelrouter.testing._faults import Fault, FaultKind, ModelSettings
from modelrouter.testing._server import ANY_MODEL, FakeProvider, RecordedRequest
from modelrouter.testing._wire import count_tokens

__all__ = [
    "ANY_MODEL",
    "FakeProvider",
    "Fault",
    "FaultKind",
    "ModelSettings",
    "RecordedRequest",
    "count_tokens",
]
