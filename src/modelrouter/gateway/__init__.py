"""The OpenAI/Anthropic-compatible gateway.

The performance-critical foundation:

``http``        an HTTP/1.1 server on asyncio Protocols and httptools (keep-alive, limits,
                chunked streaming, graceful shutdown, pre-fork workers).
``upstream``    a keep-alive HTTP/1.1 client pool for provider calls (per-host connection cap,
                separate connect / first-byte / total timeouts, raw chunk streaming).
``passthrough`` a minimal app on both, used to benchmark the foundation against LiteLLM.

The other modules (keys, limits, idempotency, signing, metrics, redaction, wire formats) are
the gateway's features, built on top.
"""
