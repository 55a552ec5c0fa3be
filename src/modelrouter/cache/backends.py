"""Where cache entries live: in memory (one process), SQLite (one machine) or Redis (shared).

A backend stores opaque JSON text per (namespace, key) with an expiry, keeps each namespace to
its size by evicting the least recently used entry, and counts hits and misses itself so that
``modelrouter cache stats`` in another process sees them (except the memory backend, which is
in-process by nature). ``ttl_s`` of None means the entry does not expire.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from modelrouter.cache.redis_backend import RedisBackend

CACHE_URL_ENV = "MODELROUTER_CACHE_URL"
NAMESPACE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Counts:
    """What a backend knows about one namespace."""

    hits: int = 0
    misses: int = 0
    entries: int = 0


class CacheBackend(Protocol):
    url: str  # where the entries are, for people (never contains a password)
    # Failures that mean "the cache is unavailable right now": a miss, not a failed request.
    transient_errors: tuple[type[BaseException], ...]

    def lookup(self, namespace: str, key: str) -> str | None:
        """The live entry, touched as most recently used; counts a hit or a miss."""
        ...

    def store(self, namespace: str, key: str, payload: str, *, ttl_s: float | None,
              max_entries: int) -> None:
        """Insert or replace, then evict the least recently used beyond ``max_entries``."""
        ...

    def counts(self) -> dict[str, Counts]:
        """Per namespace ever used: hits, misses and live entries."""
        ...

    def clear(self, namespace: str | None = None) -> int:
        """Remove the entries (and reset the counters) of one namespace or all; how many went."""
        ...

    def close(self) -> None: ...


def check_namespace(name: str) -> str:
    if not NAMESPACE_NAME.match(name):
        raise ValueError(
            f"invalid cache namespace {name!r}: use 1-64 letters, digits, '_', '.' or '-'"
        )
    return name


def _expiry(ttl_s: float | None, now: float) -> float | None:
    return None if ttl_s is None else now + ttl_s


# --------------------------------------------------------------------------- memory


class MemoryBackend:
    """An in-process LRU: per-namespace limits plus ``max_entries`` over all namespaces."""

    url = "memory://"
    transient_errors: tuple[type[BaseException], ...] = ()

    def __init__(self, max_entries: int = 100_000) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.max_entries = max_entries
        self._lock = threading.Lock()
        # Per namespace, key -> (expires_at, payload), least recently used first.
        self._spaces: dict[str, OrderedDict[str, tuple[float | None, str]]] = {}
        # Every entry in one LRU order, for the overall limit.
        self._order: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._hits: dict[str, int] = {}
        self._misses: dict[str, int] = {}

    def lookup(self, namespace: str, key: str) -> str | None:
        now = time.time()
        with self._lock:
            space = self._spaces.get(namespace)
            found = None if space is None else space.get(key)
            if found is not None and found[0] is not None and found[0] <= now:
                self._remove(namespace, key)
                found = None
            if found is None:
                self._misses[namespace] = self._misses.get(namespace, 0) + 1
                return None
            assert space is not None
            space.move_to_end(key)
            self._order.move_to_end((namespace, key))
            self._hits[namespace] = self._hits.get(namespace, 0) + 1
            return found[1]

    def store(self, namespace: str, key: str, payload: str, *, ttl_s: float | None,
              max_entries: int) -> None:
        now = time.time()
        with self._lock:
            space = self._spaces.setdefault(namespace, OrderedDict())
            space[key] = (_expiry(ttl_s, now), payload)
            space.move_to_end(key)
            self._order[(namespace, key)] = None
            self._order.move_to_end((namespace, key))
            while len(space) > max_entries:
                oldest = next(iter(space))
                self._remove(namespace, oldest)
            while len(self._order) > self.max_entries:
                other, oldest = next(iter(self._order))
                self._remove(other, oldest)

    def _remove(self, namespace: str, key: str) -> None:
        del self._spaces[namespace][key]
        del self._order[(namespace, key)]

    def counts(self) -> dict[str, Counts]:
        now = time.time()
        with self._lock:
            names = set(self._spaces) | set(self._hits) | set(self._misses)
            result = {}
            for name in sorted(names):
                space = self._spaces.get(name)
                expiries = [e for e, _ in space.values()] if space is not None else []
                live = sum(1 for expires in expiries if expires is None or expires > now)
                result[name] = Counts(self._hits.get(name, 0), self._misses.get(name, 0), live)
            return result

    def clear(self, namespace: str | None = None) -> int:
        with self._lock:
            names = list(self._spaces) if namespace is None else [namespace]
            removed = 0
            for name in names:
                for key in list(self._spaces.get(name, ())):
                    self._remove(name, key)
                    removed += 1
                self._spaces.pop(name, None)
                self._hits.pop(name, None)
                self._misses.pop(name, None)
            if namespace is None:
                self._hits.clear()
                self._misses.clear()
            return removed

    def close(self) -> None:
        return None


# --------------------------------------------------------------------------- SQLite


def _m001_entries_and_counters(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TABLE cache_entries ("
        " namespace TEXT NOT NULL, key TEXT NOT NULL, payload TEXT NOT NULL,"
        " created_at REAL NOT NULL, expires_at REAL, accessed INTEGER NOT NULL,"
        " PRIMARY KEY (namespace, key))"
    )
    db.execute("CREATE INDEX cache_entries_lru ON cache_entries (namespace, accessed)")
    db.execute(
        "CREATE TABLE cache_counters ("
        " namespace TEXT PRIMARY KEY, hits INTEGER NOT NULL DEFAULT 0,"
        " misses INTEGER NOT NULL DEFAULT 0)"
    )


# Append-only: a new schema is a new named function at the end, never an edit.
MIGRATIONS = (("001_entries_and_counters", _m001_entries_and_counters),)


def default_sqlite_path() -> Path:
    from modelrouter.paths import user_data_dir

    return user_data_dir() / "cache.db"


class SQLiteBackend:
    """One SQLite file in WAL mode, safe to share between processes on one machine.

    LRU order is a per-namespace counter bumped on every hit, so it is exact across processes.
    """

    transient_errors: tuple[type[BaseException], ...] = (sqlite3.OperationalError,)

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_sqlite_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # sqlite:///tmp/cache.db names /tmp/cache.db, sqlite://cache.db a relative path.
        self.url = f"sqlite://{self.path}"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=10.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def _migrate(self) -> None:
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("CREATE TABLE IF NOT EXISTS cache_migrations"
                           " (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
                done = {row[0] for row in db.execute("SELECT name FROM cache_migrations")}
                for name, migrate in MIGRATIONS:
                    if name not in done:
                        migrate(db)
                        db.execute("INSERT INTO cache_migrations VALUES (?, ?)",
                                   (name, time.time()))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def _count(self, namespace: str, column: str) -> None:
        self._db.execute(
            f"INSERT INTO cache_counters (namespace, {column}) VALUES (?, 1)"
            f" ON CONFLICT (namespace) DO UPDATE SET {column} = {column} + 1",
            (namespace,),
        )

    def _next_tick(self, namespace: str) -> int:
        row = self._db.execute(
            "SELECT MAX(accessed) FROM cache_entries WHERE namespace = ?", (namespace,)
        ).fetchone()
        return int(row[0] or 0) + 1

    def lookup(self, namespace: str, key: str) -> str | None:
        now = time.time()
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT payload, expires_at FROM cache_entries"
                    " WHERE namespace = ? AND key = ?", (namespace, key),
                ).fetchone()
                if row is not None and row[1] is not None and row[1] <= now:
                    db.execute("DELETE FROM cache_entries WHERE namespace = ? AND key = ?",
                               (namespace, key))
                    row = None
                if row is None:
                    self._count(namespace, "misses")
                else:
                    db.execute("UPDATE cache_entries SET accessed = ?"
                               " WHERE namespace = ? AND key = ?",
                               (self._next_tick(namespace), namespace, key))
                    self._count(namespace, "hits")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return None if row is None else str(row[0])

    def store(self, namespace: str, key: str, payload: str, *, ttl_s: float | None,
              max_entries: int) -> None:
        now = time.time()
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "INSERT OR REPLACE INTO cache_entries VALUES (?, ?, ?, ?, ?, ?)",
                    (namespace, key, payload, now, _expiry(ttl_s, now),
                     self._next_tick(namespace)),
                )
                db.execute("INSERT OR IGNORE INTO cache_counters (namespace) VALUES (?)",
                           (namespace,))
                (size,) = db.execute("SELECT COUNT(*) FROM cache_entries WHERE namespace = ?",
                                     (namespace,)).fetchone()
                if size > max_entries:
                    db.execute("DELETE FROM cache_entries WHERE namespace = ?"
                               " AND expires_at IS NOT NULL AND expires_at <= ?",
                               (namespace, now))
                    db.execute(
                        "DELETE FROM cache_entries WHERE namespace = ? AND key IN ("
                        " SELECT key FROM cache_entries WHERE namespace = ?"
                        " ORDER BY accessed DESC LIMIT -1 OFFSET ?)",
                        (namespace, namespace, max_entries),
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def counts(self) -> dict[str, Counts]:
        now = time.time()
        with self._lock:
            rows = self._db.execute(
                "SELECT c.namespace, c.hits, c.misses, (SELECT COUNT(*) FROM cache_entries e"
                "  WHERE e.namespace = c.namespace"
                "  AND (e.expires_at IS NULL OR e.expires_at > ?))"
                " FROM cache_counters c ORDER BY c.namespace", (now,),
            ).fetchall()
        return {name: Counts(hits, misses, entries) for name, hits, misses, entries in rows}

    def clear(self, namespace: str | None = None) -> int:
        where, args = ("", ()) if namespace is None else (" WHERE namespace = ?", (namespace,))
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                removed = db.execute("DELETE FROM cache_entries" + where, args).rowcount
                db.execute("DELETE FROM cache_counters" + where, args)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return int(removed)

    def close(self) -> None:
        with self._lock:
            self._db.close()


# --------------------------------------------------------------------------- by URL


def open_backend(url: str | None = None) -> MemoryBackend | SQLiteBackend | RedisBackend:
    """The backend a URL names: ``memory://``, ``sqlite:///path`` or ``redis://…``.

    Without a URL: ``MODELROUTER_CACHE_URL``, else SQLite at ``user_data_dir()/cache.db``.
    """
    if url is None:
        url = os.environ.get(CACHE_URL_ENV, "").strip() or None
    if url is None:
        return SQLiteBackend()
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "memory":
        return MemoryBackend()
    if scheme == "sqlite":
        path = url.split("://", 1)[1]
        if path.startswith("//"):  # sqlite:////abs/path, SQLAlchemy's spelling
            path = path[1:]
        return SQLiteBackend(path or None)
    if scheme in ("redis", "rediss", "unix"):
        from modelrouter.cache.redis_backend import RedisBackend

        return RedisBackend(url)
    raise ValueError(
        f"unsupported cache URL {url!r}: use memory://, sqlite:///path/to/cache.db"
        " or redis://host:6379/0"
    )


__all__ = [
    "CACHE_URL_ENV",
    "MIGRATIONS",
    "CacheBackend",
    "Counts",
    "MemoryBackend",
    "SQLiteBackend",
    "check_namespace",
    "default_sqlite_path",
    "open_backend",
]
