"""Optional HMAC request signing: a timestamp and a one-time nonce, so replays are rejected.

A client sends::

    x-modelrouter-timestamp: <unix seconds>
    x-modelrouter-nonce:     <8..128 of A-Z a-z 0-9 _ ->
    x-modelrouter-signature: hex HMAC-SHA256(secret,
                             f"{timestamp}\\n{nonce}\\n{METHOD}\\n{path}\\n{sha256(body) hex}")

The server rejects a timestamp more than ``max_skew_s`` (300 s) away from its clock, a bad
signature (compared in constant time), and a nonce seen before. A nonce is remembered for
``2 * max_skew_s`` — past that, its timestamp is rejected anyway — in Redis (``SET NX PX``,
shared by replicas) or in-process. The nonce is recorded only after the signature checks out,
so forged requests cannot burn a client's nonces. ``sign`` builds the headers for clients/tests.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from typing import Any, Protocol

__all__ = [
    "NONCE_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "MemoryNonceStore",
    "NonceStore",
    "RedisNonceStore",
    "RequestVerifier",
    "SignatureError",
    "sign",
]

TIMESTAMP_HEADER = "x-modelrouter-timestamp"
NONCE_HEADER = "x-modelrouter-nonce"
SIGNATURE_HEADER = "x-modelrouter-signature"
MAX_SKEW_S = 300
_NONCE = re.compile(r"^[A-Za-z0-9_-]{8,128}$")


class SignatureError(Exception):
    """The request's signature is missing, wrong, stale or replayed: answer 401."""

    http_status = 401

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _payload(timestamp: str, nonce: str, method: str, path: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return f"{timestamp}\n{nonce}\n{method.upper()}\n{path}\n{digest}".encode()


def sign(
    secret: bytes, method: str, path: str, body: bytes = b"", *,
    timestamp: int | None = None, nonce: str | None = None,
) -> dict[str, str]:
    """The three signing headers for one request."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    once = nonce or secrets.token_urlsafe(16)
    mac = hmac.new(secret, _payload(stamp, once, method, path, body), hashlib.sha256)
    return {TIMESTAMP_HEADER: stamp, NONCE_HEADER: once, SIGNATURE_HEADER: mac.hexdigest()}


class NonceStore(Protocol):
    async def remember(self, nonce: str, ttl_s: float) -> bool:
        """True the first time ``nonce`` is seen within ``ttl_s``; False for a replay."""
        ...


class MemoryNonceStore:
    """One process's nonces (a single replica), expired ones purged as it goes."""

    def __init__(self, clock: Any = time.monotonic, max_entries: int = 1_000_000) -> None:
        self._seen: dict[str, float] = {}
        self._clock = clock
        self._max = max_entries

    async def remember(self, nonce: str, ttl_s: float) -> bool:
        now = self._clock()
        until = self._seen.get(nonce)
        if until is not None and until > now:
            return False
        if len(self._seen) >= self._max or len(self._seen) % 1024 == 0:
            self._seen = {k: v for k, v in self._seen.items() if v > now}
            if len(self._seen) >= self._max:
                return False  # full of live nonces: refuse rather than forget one
        self._seen[nonce] = now + ttl_s
        return True


class RedisNonceStore:
    """Nonces shared by every replica: one ``SET NX PX`` per signed request."""

    def __init__(self, client: Any, key_prefix: str = "modelrouter:nonce:") -> None:
        self._redis = client
        self.key_prefix = key_prefix

    async def remember(self, nonce: str, ttl_s: float) -> bool:
        stored = await self._redis.set(self.key_prefix + nonce, b"1", nx=True,
                                       px=max(1, round(ttl_s * 1000)))
        return bool(stored)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


class RequestVerifier:
    """Checks signed requests; ``await verify(...)`` returns or raises ``SignatureError``."""

    def __init__(self, secret: bytes, nonces: NonceStore | None = None, *,
                 max_skew_s: float = MAX_SKEW_S, clock: Any = time.time) -> None:
        if len(secret) < 16:
            raise ValueError("a signing secret needs at least 16 bytes")
        self._secret = secret
        self._nonces = nonces if nonces is not None else MemoryNonceStore()
        self.max_skew_s = max_skew_s
        self._clock = clock

    async def verify(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> None:
        stamp = _header(headers, TIMESTAMP_HEADER)
        nonce = _header(headers, NONCE_HEADER)
        given = _header(headers, SIGNATURE_HEADER)
        if stamp is None or nonce is None or given is None:
            raise SignatureError("missing signature headers")
        if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
            raise SignatureError("malformed timestamp")
        if abs(self._clock() - int(stamp)) > self.max_skew_s:
            raise SignatureError("timestamp outside the allowed clock skew")
        if not _NONCE.match(nonce):
            raise SignatureError("malformed nonce")
        expected = hmac.new(self._secret, _payload(stamp, nonce, method, path, body),
                            hashlib.sha256).hexdigest()
        given = given.strip().lower()
        if not given.isascii() or not hmac.compare_digest(expected, given):
            raise SignatureError("bad signature")
        if not await self._nonces.remember(nonce, 2 * self.max_skew_s):
            raise SignatureError("replayed nonce")
