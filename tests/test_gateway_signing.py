"""Request signing (skew, replay, tampering) and redaction of secrets in logs."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest

from modelrouter.gateway.redact import MASK, RedactingFilter, Redactor
from modelrouter.gateway.signing import (
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    RedisNonceStore,
    RequestVerifier,
    SignatureError,
    sign,
)
from tests.test_gateway_limits import REDIS_URL, require_redis

SECRET = b"signing-secret-0123456789"
NOW = 1_800_000_000
BODY = b'{"model":"auto"}'


def verifier(**options: object) -> RequestVerifier:
    return RequestVerifier(SECRET, clock=lambda: NOW, **options)  # type: ignore[arg-type]


def check(v: RequestVerifier, headers: dict[str, str], *, method: str = "POST",
          path: str = "/v1/chat/completions", body: bytes = BODY) -> str | None:
    try:
        asyncio.run(v.verify(method, path, body, headers))
    except SignatureError as exc:
        return exc.reason
    return None


def test_a_signed_request_passes_once_then_is_a_replay() -> None:
    v = verifier()
    headers = sign(SECRET, "post", "/v1/chat/completions", BODY, timestamp=NOW)
    assert set(headers) == {TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER}
    assert check(v, headers) is None
    assert check(v, headers) == "replayed nonce"
    upper = {k.title(): val for k, val in sign(SECRET, "POST", "/v1/chat/completions", BODY,
                                                 timestamp=NOW).items()}
    assert check(v, upper) is None  # header names are case-insensitive


@pytest.mark.parametrize(("offset", "reason"), [
    (-300, None), (300, None), (-301, "timestamp outside the allowed clock skew"),
    (301, "timestamp outside the allowed clock skew"),
])
def test_clock_skew(offset: int, reason: str | None) -> None:
    headers = sign(SECRET, "POST", "/v1/chat/completions", BODY, timestamp=NOW + offset)
    assert check(verifier(), headers) == reason


@pytest.mark.parametrize("change", ["body", "path", "method", "secret", "nonce"])
def test_tampering_is_rejected_and_does_not_burn_the_nonce(change: str) -> None:
    v = verifier()
    good = sign(SECRET, "POST", "/v1/chat/completions", BODY, timestamp=NOW, nonce="nonce-1234")
    kwargs: dict[str, object] = {}
    headers = dict(good)
    if change == "body":
        kwargs["body"] = BODY + b" "
    elif change == "path":
        kwargs["path"] = "/v1/messages"
    elif change == "method":
        kwargs["method"] = "PUT"
    elif change == "secret":
        headers = sign(b"another-secret-0123456789", "POST", "/v1/chat/completions", BODY,
                       timestamp=NOW, nonce="nonce-1234")
    else:
        headers[NONCE_HEADER] = "nonce-9999"
    assert check(v, headers, **kwargs) == "bad signature"  # type: ignore[arg-type]
    assert check(v, good) is None


@pytest.mark.parametrize(("header", "value", "reason"), [
    (TIMESTAMP_HEADER, None, "missing signature headers"),
    (TIMESTAMP_HEADER, "12.5", "malformed timestamp"),
    (TIMESTAMP_HEADER, "١٢٣", "malformed timestamp"),
    (NONCE_HEADER, "short", "malformed nonce"),
    (SIGNATURE_HEADER, "é" * 64, "bad signature"),
])
def test_malformed_headers(header: str, value: str | None, reason: str) -> None:
    headers = sign(SECRET, "POST", "/v1/chat/completions", BODY, timestamp=NOW)
    if value is None:
        del headers[header]
    else:
        headers[header] = value
    assert check(verifier(), headers) == reason


def test_redis_nonces_are_shared_by_replicas() -> None:
    client = require_redis()
    prefix = f"mrtest:nonce:{uuid.uuid4().hex}:"

    async def main() -> list[str | None]:
        import redis.asyncio

        out: list[str | None] = []
        conn = redis.asyncio.Redis.from_url(REDIS_URL)
        one = verifier(nonces=RedisNonceStore(conn, prefix))
        two = verifier(nonces=RedisNonceStore(conn, prefix))
        headers = sign(SECRET, "POST", "/p", BODY, timestamp=NOW)
        for v in (one, two):
            try:
                await v.verify("POST", "/p", BODY, headers)
                out.append(None)
            except SignatureError as exc:
                out.append(exc.reason)
        ttl = await conn.pttl(prefix + headers[NONCE_HEADER])
        await conn.aclose()
        out.append("ttl-ok" if 590_000 < ttl <= 600_000 else f"ttl {ttl}")
        return out

    try:
        assert asyncio.run(main()) == [None, "replayed nonce", "ttl-ok"]
    finally:
        found = list(client.scan_iter(match=prefix + "*"))
        if found:
            client.delete(*found)
        client.close()


# --------------------------------------------------------------------------- redaction


def test_redaction_of_built_in_and_configured_secrets() -> None:
    r = Redactor([r"acct-\d{6}"])
    text = ("auth Bearer abcdefgh12345678 key sk-proj-AAAABBBBCCCC and sk-ant-api03-xyzxyzxyz "
            "virtual mr-" + "Q" * 43 + " account acct-123456 but sk-1 and 'mr-' stay")
    out = r.text(text)
    for secret in ("abcdefgh12345678", "sk-proj-AAAABBBBCCCC", "sk-ant-api03", "Q" * 20,
                   "acct-123456"):
        assert secret not in out
    assert "Bearer [REDACTED]" in out and "sk-1 " in out and "'mr-'" in out


def test_redaction_of_structures_keeps_token_counts() -> None:
    data = {"headers": {"Authorization": "Bearer x", "x-api-key": "anything", "Accept": "json"},
            "api_key": "k", "client_secret": "s", "max_tokens": 10, "usage": {"total_tokens": 5},
            "messages": [{"content": "my key is sk-abcdefghijkl"}], "n": ("sk-abcdefghijkl",)}
    out = Redactor().data(data)
    assert out["headers"] == {"Authorization": MASK, "x-api-key": MASK, "Accept": "json"}
    assert out["api_key"] == MASK and out["client_secret"] == MASK
    assert out["max_tokens"] == 10 and out["usage"] == {"total_tokens": 5}
    assert out["messages"][0]["content"] == f"my key is {MASK}" and out["n"] == (MASK,)


def test_redacting_log_filter(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("mrtest.redact")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="mrtest.redact"):
        logger.info("upstream said %s", "Bearer sk-abcdefghijkl1234")
        logger.info("mr-%s", "Z" * 43)
    assert "sk-abcdefghijkl1234" not in caplog.text and "Z" * 20 not in caplog.text
    assert caplog.text.count(MASK) == 2


def test_bad_configured_pattern_fails_early() -> None:
    import re

    with pytest.raises(re.error):
        Redactor(["(unclosed"])
