"""The response cache: canonical keys, namespaces, TTL, LRU, counters, replay; every backend.

SQLite tests use real files; Redis tests use the real server at MODELROUTER_TEST_REDIS_URL
(default redis://127.0.0.1:6379/0) under a unique prefix that is deleted afterwards.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from modelrouter.adapters.base import Response, StreamChunk, ToolCall, Usage
from modelrouter.cache.backends import MemoryBackend, SQLiteBackend, open_backend
from modelrouter.cache.keys import cache_key, cacheable, output_params
from modelrouter.cache.store import (
    CachedAnswer,
    Namespace,
    ResponseCache,
    StreamCapture,
    cache_from_settings,
    dump_answer,
    load_answer,
    open_cache,
    replay,
)
from modelrouter.config.schema import CacheSettings

REDIS_URL = os.environ.get("MODELROUTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]


def redis_client() -> Any:
    """A live client, or skip (fail in CI) with the reason."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1.0)
    try:
        client.ping()
    except (redis.exceptions.RedisError, OSError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {REDIS_URL} is required in CI: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({exc}); set CI to make this fail")
    return client


def drop_prefix(client: Any, prefix: str) -> None:
    keys = list(client.scan_iter(match=prefix + ":*"))
    if keys:
        client.delete(*keys)


def answer(text: str = "Hello there, how can I help?", **changes: Any) -> CachedAnswer:
    response = Response(
        text=text,
        finish_reason=changes.pop("finish_reason", "stop"),
        usage=Usage(input_tokens=120, output_tokens=30, cached_input_tokens=20,
                    cache_write_tokens=5, reasoning_tokens=7),
        tool_calls=changes.pop("tool_calls", (ToolCall("call_1", "lookup", '{"q": "é"}'),)),
        model="gpt-5-2025-08-07",
        request_id="req_original",
    )
    return CachedAnswer(response, model="openai:gpt-5", cost_usd=Decimal("0.000123456789"),
                        created_at=datetime(2025, 5, 1, 12, 30, 15, 123456, tzinfo=UTC))


def key(n: int | str) -> str:
    return cache_key(target="tier:fast", messages=[{"role": "user", "content": f"q{n}"}],
                     params={"temperature": 0})


# --------------------------------------------------------------------------- keys


def k(target: str = "openai:gpt-5", messages: Any = MESSAGES, **params: Any) -> str:
    return cache_key(target=target, messages=messages, params=params)


def test_key_is_a_sha256_and_stable() -> None:
    first = k(temperature=0, max_tokens=100)
    assert len(first) == 64 and int(first, 16) >= 0
    assert first == k(temperature=0, max_tokens=100)


def test_key_ignores_dict_order_in_messages_and_params() -> None:
    reordered = [{"content": "Be brief.", "role": "system"}, {"content": "Hi", "role": "user"}]
    tools_a = [{"type": "function", "function": {"name": "f", "parameters": {"a": 1, "b": 2}}}]
    tools_b = [{"function": {"parameters": {"b": 2, "a": 1}, "name": "f"}, "type": "function"}]
    assert k(messages=reordered, max_tokens=5, tools=tools_a) == k(tools=tools_b, max_tokens=5)


@pytest.mark.parametrize(("one", "other"), [
    (1.0, 1), (0.0, 0), (0.7, Decimal("0.70")), (1e2, 100), (Decimal("1.000"), 1),
])
def test_key_ignores_number_spelling(one: Any, other: Any) -> None:
    assert k(temperature=one) == k(temperature=other)
    assert k(extra={"top_k": one}) == k(extra={"top_k": other})


def test_key_keeps_bools_apart_from_numbers() -> None:
    assert k(extra={"flag": True}) != k(extra={"flag": 1})


def test_key_normalises_unicode_to_nfc() -> None:
    composed = [{"role": "user", "content": unicodedata.normalize("NFC", "café")}]
    decomposed = [{"role": "user", "content": unicodedata.normalize("NFD", "café")}]
    assert composed != decomposed
    assert k(messages=composed) == k(messages=decomposed)


@pytest.mark.parametrize("ignored", [
    {"stream": True}, {"request_id": "req_123"}, {"key": "team-a"}, {"api_key": "sk-1"},
    {"timeout_ms": 5000}, {"timeouts": {"total_s": 3}}, {"max_cost_usd": Decimal("0.5")},
    {"extra": {"timeout": 3}}, {"temperature": None}, {"stop": []}, {"extra": {}},
])
def test_key_ignores_what_does_not_change_the_answer(ignored: dict[str, Any]) -> None:
    assert k(max_tokens=50, **ignored) == k(max_tokens=50)


@pytest.mark.parametrize("changed", [
    {"max_tokens": 51}, {"temperature": 0.2}, {"top_p": 0.9}, {"stop": ["\n"]},
    {"tools": [{"type": "function", "function": {"name": "g"}}]}, {"tool_choice": "required"},
    {"response_format": {"type": "json_object"}}, {"seed": 7}, {"n": 2},
    {"extra": {"reasoning_effort": "high"}}, {"presence_penalty": 0.5},
])
def test_key_changes_with_each_output_parameter(changed: dict[str, Any]) -> None:
    assert k(**{"max_tokens": 50, **changed}) != k(max_tokens=50)


def test_key_changes_with_target_and_messages() -> None:
    assert k() != k(target="tier:fast")
    assert k(target="tier:fast") != k(target="tier:balanced")
    assert k() != k(messages=[*MESSAGES, {"role": "user", "content": "more"}])
    assert k() != k(messages=list(reversed(MESSAGES)))


def test_key_rejects_values_it_cannot_spell_one_way() -> None:
    with pytest.raises(ValueError):
        k(temperature=float("nan"))
    with pytest.raises(TypeError):
        k(extra={"when": object()})


def test_output_params_drops_ignored_and_unset() -> None:
    assert output_params({"stream": True, "temperature": 0, "stop": None,
                          "extra": {"top_k": 3, "timeout": 1}}) == {
        "temperature": 0, "extra": {"top_k": 3}}


@pytest.mark.parametrize(("params", "expected"), [
    ({"temperature": 0}, True),
    ({"temperature": 0.0, "n": 1}, True),
    ({"temperature": 0.7}, False),
    ({"temperature": 0.7, "seed": 42}, True),
    ({"temperature": 0.7, "extra": {"seed": 42}}, True),
    ({}, False),  # unset temperature: the provider samples
    ({"temperature": 0, "n": 2}, False),
    ({"temperature": 0, "extra": {"n": 3}}, False),
])
def test_cacheable(params: dict[str, Any], expected: bool) -> None:
    assert cacheable(params) is expected
    assert cacheable(params, nondeterministic_ok=True) is True


# --------------------------------------------------------------------------- serialisation


def test_serialisation_round_trips_exactly() -> None:
    original = answer()
    text = dump_answer(original)
    assert '"0.000123456789"' in text  # money as a string, never a float
    assert load_answer(text) == original


@pytest.mark.parametrize("bad", ["", "[]", '{"v": 99}', '{"v": 1, "response": {}}'])
def test_load_answer_rejects_garbage(bad: str) -> None:
    with pytest.raises(ValueError):
        load_answer(bad)


# --------------------------------------------------------------------------- backends


Factory = Callable[..., ResponseCache]


@contextmanager
def cache_factory(kind: str, tmp_path: Path) -> Iterator[Factory]:
    """Builds caches on one shared store: a second call is a second process's view."""
    opened: list[ResponseCache] = []
    client = redis_client() if kind == "redis" else None
    prefix = f"mrtest:{uuid.uuid4().hex}"
    memory = MemoryBackend()

    def build(namespaces: Any = None) -> ResponseCache:
        if kind == "memory":
            backend: Any = memory
        elif kind == "sqlite":
            backend = SQLiteBackend(tmp_path / "cache.db")
        else:
            from modelrouter.cache.redis_backend import RedisBackend

            backend = RedisBackend(REDIS_URL, prefix=prefix)
        cache = ResponseCache(backend, namespaces)
        opened.append(cache)
        return cache

    try:
        yield build
    finally:
        for cache in opened:
            cache.close()
        if client is not None:
            drop_prefix(client, prefix)
            client.close()


@pytest.fixture(params=["memory", "sqlite", "redis"])
def make_cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    with cache_factory(request.param, tmp_path) as build:
        yield build


@pytest.fixture(params=["sqlite", "redis"])
def make_shared_cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """Backends whose entries and counters outlive the process (the memory one does not)."""
    with cache_factory(request.param, tmp_path) as build:
        yield build


def test_miss_then_hit_returns_the_exact_answer(make_cache: Factory) -> None:
    cache = make_cache()
    assert cache.get(key(1)) is None
    assert cache.put(key(1), answer()) is True
    found = cache.get(key(1))
    assert found == answer()
    assert found is not None and found.cost_usd == Decimal("0.000123456789")
    stats = cache.stats()["default"]
    assert (stats.hits, stats.misses, stats.entries, stats.hit_rate) == (1, 1, 1, 0.5)


def test_put_replaces_an_entry(make_cache: Factory) -> None:
    cache = make_cache()
    cache.put(key(1), answer("first"))
    cache.put(key(1), answer("second"))
    found = cache.get(key(1))
    assert found is not None and found.response.text == "second"
    assert cache.stats()["default"].entries == 1


def test_entries_expire_after_ttl(make_cache: Factory) -> None:
    cache = make_cache({"brief": {"ttl_s": 0.15, "max_entries": 10}})
    cache.put(key(1), answer(), namespace="brief")
    cache.put(key(2), answer())  # default namespace: an hour
    assert cache.get(key(1), namespace="brief") is not None
    time.sleep(0.25)
    assert cache.get(key(1), namespace="brief") is None
    assert cache.stats()["brief"].entries == 0
    assert cache.get(key(2)) is not None


def test_lru_evicts_the_least_recently_used(make_cache: Factory) -> None:
    cache = make_cache({"small": {"ttl_s": 60, "max_entries": 3}})
    for n in ("a", "b", "c"):
        cache.put(key(n), answer(n), namespace="small")
    assert cache.get(key("a"), namespace="small") is not None  # a is now the most recent
    cache.put(key("d"), answer("d"), namespace="small")  # evicts b
    cache.put(key("e"), answer("e"), namespace="small")  # evicts c
    present = {n for n in "abcde" if cache.get(key(n), namespace="small") is not None}
    assert present == {"a", "d", "e"}
    assert cache.stats()["small"].entries == 3


def test_each_namespace_has_its_own_size(make_cache: Factory) -> None:
    cache = make_cache({"small": {"ttl_s": 60, "max_entries": 2}})
    for n in range(4):
        cache.put(key(n), answer(), namespace="default")
    for n in range(10, 16):
        cache.put(key(n), answer(), namespace="small")
    stats = cache.stats()
    assert stats["small"].entries == 2
    assert stats["default"].entries == 4
    assert all(cache.get(key(n)) is not None for n in range(4))


def test_errors_and_failed_answers_are_never_stored(make_cache: Factory) -> None:
    cache = make_cache()
    assert cache.put(key(1), answer(finish_reason="error")) is False
    assert cache.put(key(2), answer(finish_reason="content_filter")) is False
    assert cache.put(key(3), RuntimeError("provider down")) is False
    assert cache.stats()["default"].entries == 0
    assert cache.get(key(1)) is None


def test_a_cut_stream_is_refused_and_a_whole_one_stored(make_cache: Factory) -> None:
    cache = make_cache()
    chunks = [StreamChunk(text="Hel", model="m"), StreamChunk(text="lo", model="m")]
    assert cache.put_stream(key(1), chunks, model="openai:gpt-5", cost_usd=None) is False
    assert cache.get(key(1)) is None
    final = StreamChunk(finish_reason="stop", usage=Usage(3, 2), model="m", request_id="r")
    assert cache.put_stream(key(1), [*chunks, final], model="openai:gpt-5",
                            cost_usd=Decimal("0.01")) is True
    found = cache.get(key(1))
    assert found is not None
    assert (found.response.text, found.response.usage, found.cost_usd) == (
        "Hello", Usage(3, 2), Decimal("0.01"))


def test_counters_and_entries_are_seen_by_a_second_instance(make_shared_cache: Factory
                                                             ) -> None:
    writer = make_shared_cache()
    writer.put(key(1), answer())
    writer.get(key(1))
    writer.get(key(2))
    writer.get(key(3))
    reader = make_shared_cache()
    stats = reader.stats()["default"]
    assert (stats.hits, stats.misses, stats.entries) == (1, 2, 1)
    assert reader.get(key(1)) == answer()
    assert writer.stats()["default"].hits == 2


def test_clear_one_namespace_or_all(make_cache: Factory) -> None:
    cache = make_cache({"other": {"ttl_s": 60, "max_entries": 10}})
    cache.put(key(1), answer())
    cache.put(key(2), answer())
    cache.put(key(3), answer(), namespace="other")
    cache.get(key(1))
    assert cache.clear("default") == 2
    stats = cache.stats()
    assert (stats["default"].entries, stats["default"].hits) == (0, 0)
    assert stats["other"].entries == 1
    assert cache.get(key(3), namespace="other") is not None
    assert cache.clear() == 1
    assert cache.get(key(3), namespace="other") is None


def test_unknown_namespace_is_an_error(make_cache: Factory) -> None:
    cache = make_cache()
    with pytest.raises(ValueError, match="did you mean 'default'"):
        cache.get(key(1), namespace="defualt")
    with pytest.raises(ValueError):
        cache.put(key(1), answer(), namespace="nope")


def test_nondeterministic_requests_follow_the_namespace(make_cache: Factory) -> None:
    cache = make_cache({"creative": {"ttl_s": 60, "max_entries": 10,
                                     "cache_nondeterministic": True}})
    assert cache.cacheable({"temperature": 0.9}) is False
    assert cache.cacheable({"temperature": 0.9}, namespace="creative") is True


# --------------------------------------------------------------------------- backend specifics


def test_memory_backend_has_an_overall_limit() -> None:
    cache = ResponseCache(MemoryBackend(max_entries=3),
                          {"other": {"ttl_s": 60, "max_entries": 10}})
    cache.put(key(1), answer())
    cache.put(key(2), answer(), namespace="other")
    cache.put(key(3), answer())
    cache.put(key(4), answer(), namespace="other")  # evicts key(1), the oldest overall
    assert cache.get(key(1)) is None
    assert cache.get(key(3)) is not None
    assert sum(s.entries for s in cache.stats().values()) == 3


def test_sqlite_is_wal_and_records_its_migrations(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    SQLiteBackend(path).close()
    SQLiteBackend(path).close()  # a second open applies nothing twice
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT name FROM cache_migrations").fetchall() == [
        ("001_entries_and_counters",)]
    db.close()


def test_a_corrupt_entry_is_a_miss(tmp_path: Path) -> None:
    backend = SQLiteBackend(tmp_path / "c.db")
    backend.store("default", key(1), "{not json", ttl_s=60, max_entries=10)
    assert ResponseCache(backend).get(key(1)) is None
    backend.close()


def test_an_unreachable_redis_is_a_miss_not_a_failure() -> None:
    pytest.importorskip("redis")
    from modelrouter.cache.redis_backend import RedisBackend

    cache = ResponseCache(RedisBackend("redis://127.0.0.1:1/0"))
    assert cache.get(key(1)) is None
    assert cache.put(key(1), answer()) is False
    cache.close()


def test_redis_url_hides_the_password() -> None:
    pytest.importorskip("redis")
    from modelrouter.cache.redis_backend import RedisBackend

    backend = RedisBackend("redis://user:s3cret@127.0.0.1:1/0", prefix="p")
    assert "s3cret" not in backend.url
    backend.close()


def test_open_backend_picks_by_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(open_backend("memory://"), MemoryBackend)
    named = open_backend(f"sqlite://{tmp_path}/a.db")
    assert isinstance(named, SQLiteBackend) and named.path == tmp_path / "a.db"
    assert open_backend(named.url).path == named.path  # type: ignore[union-attr]
    named.close()
    monkeypatch.setenv("MODELROUTER_CACHE_URL", "memory://")
    assert isinstance(open_backend(), MemoryBackend)
    monkeypatch.delenv("MODELROUTER_CACHE_URL")
    default = open_backend()
    assert isinstance(default, SQLiteBackend)
    assert default.path == Path(os.environ["MODELROUTER_HOME"]) / "cache.db"
    default.close()
    with pytest.raises(ValueError, match="unsupported cache URL"):
        open_backend("mysql://x")


def test_open_backend_redis_url() -> None:
    redis_client()
    from modelrouter.cache.redis_backend import RedisBackend

    backend = open_backend(REDIS_URL)
    assert isinstance(backend, RedisBackend)
    backend.close()


def test_cache_from_settings_honours_enabled_and_ttl() -> None:
    assert cache_from_settings(CacheSettings(enabled=False, ttl_s=60)) is None
    cache = cache_from_settings(CacheSettings(enabled=True, ttl_s=120), url="memory://")
    assert cache is not None and cache.namespace("default").ttl_s == 120
    forever = cache_from_settings(CacheSettings(enabled=True, ttl_s=0), url="memory://")
    assert forever is not None and forever.namespace("default").ttl_s is None


def test_namespace_config_is_checked() -> None:
    with pytest.raises(ValueError, match="unknown field"):
        ResponseCache(MemoryBackend(), {"x": {"ttl": 5}})
    with pytest.raises(ValueError, match="ttl_s"):
        Namespace("x", ttl_s=0)
    with pytest.raises(ValueError, match="invalid cache namespace"):
        Namespace("a b")
    assert set(open_cache("memory://").namespaces) == {"default"}


# --------------------------------------------------------------------------- replay


async def _collect(answer_: CachedAnswer, **kw: Any) -> list[StreamChunk]:
    return [chunk async for chunk in replay(answer_, **kw)]


@pytest.mark.parametrize("chunk_chars", [1, 5, 16, 1000])
def test_replay_reassembles_to_the_original(chunk_chars: int) -> None:
    original = answer("The quick brown fox jumps over the lazy dog. Ünïcödé ✓")
    chunks = asyncio.run(_collect(original, chunk_chars=chunk_chars))
    texts = [c.text for c in chunks if c.text]
    assert all(len(t) <= chunk_chars for t in texts)
    assert len(texts) == -(-len(original.response.text) // chunk_chars)
    final = chunks[-1]
    assert (final.text, final.finish_reason, final.usage) == ("", "stop", original.response.usage)
    assert all(c.finish_reason is None and c.usage is None for c in chunks[:-1])
    capture = StreamCapture()
    for chunk in chunks:
        capture.add(chunk)
    assert capture.response() == original.response


def test_replay_of_a_tool_call_answer_and_a_new_request_id() -> None:
    calls = (ToolCall("c1", "a", '{"x": 1}'), ToolCall("c2", "b", "{}"))
    original = answer("", finish_reason="tool_calls", tool_calls=calls)
    chunks = asyncio.run(_collect(original, request_id="req_new"))
    assert [c.tool_call_index for c in chunks] == [0, 1, None]
    assert {c.request_id for c in chunks} == {"req_new"}
    assert chunks[-1].finish_reason == "tool_calls"
    capture = StreamCapture()
    for chunk in chunks:
        capture.add(chunk)
    response = capture.response()
    assert response is not None and response.tool_calls == calls


def test_replay_rejects_empty_pieces() -> None:
    with pytest.raises(ValueError):
        asyncio.run(_collect(answer(), chunk_chars=0))
