"""Virtual keys: shown once, stored only as ``HMAC-SHA256(server_secret, key)``.

A key is ``mr-`` + 32 random bytes in urlsafe base64. The database keeps the hex digest (unique,
indexed) and an 8-character display prefix, never the key. ``authenticate`` computes the digest,
finds the row by it and confirms with ``hmac.compare_digest``.

Steady state costs no database I/O: recent lookups are cached in-process for ``cache_ttl_s``
(default 5 s; unknown keys for at most 1 s). A revoke or rotate clears this process's cache at
once; **other replicas honour it within ``cache_ttl_s``**. Expiry is checked on every call.

The server secret is ``MODELROUTER_SECRET`` or 32 random bytes in ``user_data_dir()/
gateway.secret`` (mode 0600, created atomically on first use). Changing it invalidates every key.
Storage follows the ledger's URL rules (``MODELROUTER_DATABASE_URL``; default SQLite
``user_data_dir()/gateway.db``) with its own named migrations (``gateway_keys_*``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from modelrouter.errors import ConfigError
from modelrouter.usage.ledger import DATABASE_URL_ENV, resolve_url, sqlite_url
from modelrouter.usage.migrations import Migration, Migrator, apply_migrations

__all__ = [
    "KEY_PREFIX",
    "SECRET_ENV",
    "AuditLog",
    "KeyStore",
    "VirtualKey",
    "allows_model",
    "load_server_secret",
]

KEY_PREFIX = "mr-"
SECRET_ENV = "MODELROUTER_SECRET"
DISPLAY_CHARS, NEGATIVE_TTL_S = 8, 1.0  # display prefix length; cache time of unknown keys


@dataclass(frozen=True, slots=True)
class VirtualKey:
    """A key's settings; never carries the key or its digest."""

    id: str
    name: str
    prefix: str
    created_at: datetime
    budget_usd: Decimal | None = None
    period: str = "month"
    rpm: int | None = None
    tpm: int | None = None
    models: tuple[str, ...] = ()
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def scope(self) -> str:
        """The budget scope of this key."""
        return f"key:{self.id}"

    def active(self, now: datetime | None = None) -> bool:
        moment = now or datetime.now(UTC)
        return self.revoked_at is None and (self.expires_at is None or moment < self.expires_at)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "models": list(self.models)}


def _active(key: VirtualKey | None) -> VirtualKey | None:
    return key if key is not None and key.active() else None


def allows_model(key: VirtualKey, model_id: str, tier: str | None = None) -> bool:
    """An empty allow-list allows everything; else the model id or ``tier:<its tier>``."""
    if not key.models:
        return True
    return model_id in key.models or (tier is not None and f"tier:{tier}" in key.models)


# --------------------------------------------------------------------------- secret, audit


def load_server_secret(path: Path | None = None) -> bytes:
    """``MODELROUTER_SECRET``, else the secret file, created 0600 and atomically if absent."""
    env = os.environ.get(SECRET_ENV)
    if env:
        if len(env) < 16:
            raise ConfigError("must be at least 16 characters", key=SECRET_ENV)
        return env.encode()
    if path is None:
        from modelrouter.paths import user_data_dir

        path = user_data_dir() / "gateway.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_bytes(32))
            os.fsync(fd)
        finally:
            os.close(fd)
        with contextlib.suppress(FileExistsError):  # another process won the race: use theirs
            os.link(temp, path)
        temp.unlink()
    secret = path.read_bytes()
    if len(secret) < 16:
        raise ConfigError(f"{path} holds {len(secret)} bytes; delete it to create a new one")
    return secret


class AuditLog:
    """Admin actions and auth failures as JSON lines (never a key: its display prefix at most)."""

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            from modelrouter.paths import user_data_dir

            path = user_data_dir() / "audit.jsonl"
        self.path = path
        self._lock = threading.Lock()

    def write(self, event: str, **fields: Any) -> None:
        line = {"time": datetime.now(UTC).isoformat(), "event": event, **fields}
        text = json.dumps(line, default=str, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(text)

    def events(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line]


# --------------------------------------------------------------------------- schema


def _keys_001(db: Migrator) -> None:
    sqlite = db.dialect == "sqlite"
    moment = "TEXT" if sqlite else "TIMESTAMPTZ"
    db.execute(f"""
        CREATE TABLE gateway_keys (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, prefix TEXT NOT NULL,
            digest TEXT NOT NULL, budget_usd {"TEXT" if sqlite else "NUMERIC(20, 10)"},
            period TEXT NOT NULL, rpm INTEGER, tpm BIGINT, models TEXT NOT NULL,
            expires_at {moment}, created_at {moment} NOT NULL, revoked_at {moment}
        )""")
    db.execute("CREATE UNIQUE INDEX gateway_keys_digest ON gateway_keys (digest)")


KEY_MIGRATIONS: list[Migration] = [Migration("gateway_keys_001", _keys_001)]
_COLUMNS = ("id", "name", "prefix", "budget_usd", "period", "rpm", "tpm", "models",
            "expires_at", "created_at", "revoked_at")


def _when(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(slots=True)
class _Cached:
    key: VirtualKey | None
    until: float


@dataclass(slots=True)
class _Db:
    dialect: str
    connection: Any
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        if self.dialect == "postgresql":
            sql = sql.replace("?", "%s")
        with self.lock:
            cursor = self.connection.execute(sql, params)
            return list(cursor.fetchall()) if cursor.description else []


def _connect(url: str, schema: str | None) -> _Db:
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() == "sqlite":
        path = unquote(rest.split("?", 1)[0]) if sep else url
        if path.startswith("//"):
            path = "/" + path.lstrip("/")
        if not path or path in ("/", ":memory:", "/:memory:"):
            raise ConfigError(f"key store URL {url!r} needs a file path")
        file = Path(path).expanduser()
        file.parent.mkdir(parents=True, exist_ok=True)
        conn: Any = sqlite3.connect(file, isolation_level=None, check_same_thread=False, timeout=5)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        apply_migrations(conn, "sqlite", KEY_MIGRATIONS)
        return _Db("sqlite", conn)
    if scheme.lower() in ("postgresql", "postgres"):
        import psycopg

        conn = psycopg.connect(url, autocommit=True, connect_timeout=5)
        if schema is not None:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            conn.execute(f'SET search_path TO "{schema}"')
        apply_migrations(conn, "postgresql", KEY_MIGRATIONS)
        return _Db("postgresql", conn)
    raise ConfigError(f"key store URL {url!r}: use sqlite:///path.db or postgresql://…",
                      key=DATABASE_URL_ENV)


def default_url() -> str:
    """``MODELROUTER_DATABASE_URL`` if set, else ``user_data_dir()/gateway.db``."""
    if os.environ.get(DATABASE_URL_ENV):
        return resolve_url()
    from modelrouter.paths import user_data_dir

    return resolve_url(sqlite_url(user_data_dir() / "gateway.db"))


class KeyStore:
    """Virtual keys in SQLite or PostgreSQL; thread-safe, one connection behind a lock."""

    def __init__(
        self, url: str | None = None, *, secret: bytes | None = None, schema: str | None = None,
        audit: AuditLog | None = None, cache_ttl_s: float = 5.0, cache_size: int = 10_000,
    ) -> None:
        self.url = url or default_url()
        self._secret = secret if secret is not None else load_server_secret()
        self._db = _connect(self.url, schema)
        self.audit = audit if audit is not None else AuditLog()
        self.cache_ttl_s = cache_ttl_s
        self._cache_size = cache_size
        self._cache: OrderedDict[str, _Cached] = OrderedDict()

    # ----------------------------------------------------------------- admin

    def _digest(self, presented: str) -> str:
        return hmac.digest(self._secret, presented.encode(), "sha256").hex()

    def _new_secret(self) -> tuple[str, str, str]:
        plain = KEY_PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        return plain, plain[:DISPLAY_CHARS], self._digest(plain)

    def _time(self, moment: datetime | None) -> Any:
        if moment is None or self._db.dialect == "postgresql":
            return moment
        return _utc_text(moment)

    def create(
        self, name: str = "", *, budget_usd: Decimal | None = None, period: str = "month",
        rpm: int | None = None, tpm: int | None = None, models: Sequence[str] = (),
        expires: datetime | None = None, actor: str = "cli",
    ) -> tuple[str, VirtualKey]:
        """A new key: returns ``(plaintext, key)``; the plaintext is not recoverable later."""
        for label, limit in (("rpm", rpm), ("tpm", tpm)):
            if limit is not None and limit <= 0:
                raise ValueError(f"{label} must be > 0, got {limit}")
        if expires is not None and expires.tzinfo is None:
            raise ValueError("expires must be timezone-aware")
        plain, prefix, digest = self._new_secret()
        key = VirtualKey(
            id="k" + secrets.token_hex(6), name=name, prefix=prefix,
            created_at=datetime.now(UTC), budget_usd=budget_usd, period=period, rpm=rpm,
            tpm=tpm, models=tuple(m.strip() for m in models if m.strip()), expires_at=expires,
        )
        money = None if budget_usd is None else (
            format(budget_usd, "f") if self._db.dialect == "sqlite" else budget_usd)
        self._db.run(
            "INSERT INTO gateway_keys (id, name, prefix, digest, budget_usd, period, rpm, tpm,"
            " models, expires_at, created_at, revoked_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,NULL)",
            (key.id, name, prefix, digest, money, period, rpm, tpm, json.dumps(key.models),
             self._time(expires), self._time(key.created_at)),
        )
        self.audit.write("key.create", actor=actor, key_id=key.id, prefix=prefix, name=name)
        return plain, key

    def revoke(self, key_id: str, *, actor: str = "cli") -> bool:
        """Make the key fail auth (here at once, other replicas within ``cache_ttl_s``)."""
        rows = self._db.run(
            "UPDATE gateway_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"
            " RETURNING id", (self._time(datetime.now(UTC)), key_id))
        self._cache.clear()
        if rows:
            self.audit.write("key.revoke", actor=actor, key_id=key_id)
        return bool(rows)

    def rotate(self, key_id: str, *, actor: str = "cli") -> str:
        """A new plaintext for the same key id (limits, budget, history kept); old one dies."""
        plain, prefix, digest = self._new_secret()
        rows = self._db.run(
            "UPDATE gateway_keys SET digest = ?, prefix = ? WHERE id = ? AND revoked_at IS NULL"
            " RETURNING id", (digest, prefix, key_id))
        self._cache.clear()
        if not rows:
            raise KeyError(f"no active key {key_id!r}")
        self.audit.write("key.rotate", actor=actor, key_id=key_id, prefix=prefix)
        return plain

    def get(self, key_id: str) -> VirtualKey | None:
        rows = self._db.run(f"SELECT {', '.join(_COLUMNS)} FROM gateway_keys WHERE id = ?",
                            (key_id,))
        return self._to_key(rows[0]) if rows else None

    def list(self) -> list[VirtualKey]:
        rows = self._db.run(f"SELECT {', '.join(_COLUMNS)} FROM gateway_keys ORDER BY created_at")
        return [self._to_key(row) for row in rows]

    def _to_key(self, row: Sequence[Any]) -> VirtualKey:
        v = dict(zip(_COLUMNS, row, strict=True))
        return VirtualKey(
            id=v["id"], name=v["name"], prefix=v["prefix"], created_at=_when(v["created_at"]),
            budget_usd=None if v["budget_usd"] is None else Decimal(v["budget_usd"]),
            period=v["period"], rpm=v["rpm"], tpm=v["tpm"], models=tuple(json.loads(v["models"])),
            expires_at=_when(v["expires_at"]) if v["expires_at"] else None,
            revoked_at=_when(v["revoked_at"]) if v["revoked_at"] else None,
        )

    # ----------------------------------------------------------------- the request path

    def _from_cache(self, digest: str) -> tuple[bool, VirtualKey | None]:
        """``(hit, key)`` from the in-process cache only: never touches the database."""
        entry = self._cache.get(digest)
        if entry is None or entry.until < time.monotonic():
            return False, None
        self._cache.move_to_end(digest)
        return True, _active(entry.key)

    def authenticate(self, presented: str, *, remote: str | None = None) -> VirtualKey | None:
        """The active key for ``presented``, or None (unknown, revoked, expired, malformed)."""
        if not presented.startswith(KEY_PREFIX) or len(presented) > 200:
            self._failed(presented, "malformed", remote)
            return None
        digest = self._digest(presented)
        hit, key = self._from_cache(digest)
        if hit:
            if key is None:
                self._failed(presented, "unknown_or_inactive", remote)
            return key
        rows = self._db.run(
            f"SELECT {', '.join(_COLUMNS)}, digest FROM gateway_keys WHERE digest = ?", (digest,))
        found = None
        if rows and hmac.compare_digest(str(rows[0][-1]), digest):
            found = self._to_key(rows[0][:-1])
        ttl = self.cache_ttl_s if found is not None else min(NEGATIVE_TTL_S, self.cache_ttl_s)
        self._cache[digest] = _Cached(found, time.monotonic() + ttl)
        self._cache.move_to_end(digest)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        key = _active(found)
        if key is None:
            self._failed(presented, "unknown" if found is None else "inactive", remote)
        return key

    async def authenticate_async(
        self, presented: str, *, remote: str | None = None
    ) -> VirtualKey | None:
        """``authenticate`` for the event loop: inline on a cache hit, a thread on a miss."""
        hit, key = self._from_cache(self._digest(presented))
        if hit and key is not None:
            return key
        return await asyncio.to_thread(self.authenticate, presented, remote=remote)

    def _failed(self, presented: str, reason: str, remote: str | None) -> None:
        shown = presented[:DISPLAY_CHARS] if presented.startswith(KEY_PREFIX) else None
        self.audit.write("auth.failure", reason=reason, prefix=shown, remote=remote)

    def close(self) -> None:
        with self._db.lock:
            self._db.connection.close()

    def __enter__(self) -> KeyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
