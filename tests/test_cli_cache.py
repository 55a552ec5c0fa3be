"""`modelrouter cache stats|clear` against a real SQLite cache file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from modelrouter.adapters.base import Response, Usage
from modelrouter.cache.keys import cache_key
from modelrouter.cache.store import CachedAnswer, ResponseCache, open_cache
from modelrouter.cli import cache as cache_cli
from modelrouter.cli._common import run_app


@pytest.fixture
def cache_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite://{tmp_path}/cache.db"
    monkeypatch.setenv("MODELROUTER_CACHE_URL", url)
    return url


def populate(url: str, namespaces: dict[str, dict[str, float]] | None = None) -> ResponseCache:
    cache = open_cache(url, namespaces=namespaces)
    answer = CachedAnswer(Response("hi", "stop", Usage(5, 1)), "openai:gpt-5", Decimal("0.001"),
                          datetime(2025, 1, 1, tzinfo=UTC))
    for n in range(3):
        key = cache_key(target="tier:fast", messages=[{"role": "user", "content": str(n)}],
                        params={"temperature": 0})
        cache.put(key, answer)
        cache.get(key)
    cache.get("0" * 64)
    if namespaces:
        for name in namespaces:
            cache.put("1" * 64, answer, namespace=name)
    return cache


def test_stats_json_counts_what_another_process_did(cache_url: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    populate(cache_url).close()
    assert run_app(cache_cli.app, ["stats", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["backend"] == cache_url
    assert data["namespaces"]["default"] == {
        "hits": 3, "misses": 1, "entries": 3, "hit_rate": 0.75, "ttl_s": 3600.0,
        "max_entries": 10000,
    }


def test_stats_table(cache_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    populate(cache_url).close()
    assert run_app(cache_cli.app, ["stats"]) == 0
    out = capsys.readouterr().out
    assert "namespace" in out and "hit rate" in out
    row = next(line for line in out.splitlines() if "default" in line)
    assert "75.0%" in row and "3600" in row


def test_stats_on_an_empty_cache(cache_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_app(cache_cli.app, ["stats", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["namespaces"]["default"]["hit_rate"] is None


def test_clear_one_namespace(cache_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    populate(cache_url, {"other": {"ttl_s": 60, "max_entries": 5}}).close()
    assert run_app(cache_cli.app, ["clear", "--namespace", "default"]) == 0
    assert "Removed 3 cached entries from namespace 'default'" in capsys.readouterr().out
    assert run_app(cache_cli.app, ["stats", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)["namespaces"]
    assert data["default"]["entries"] == 0 and data["default"]["hits"] == 0
    assert data["other"]["entries"] == 1


def test_clear_everything(cache_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    populate(cache_url, {"other": {"ttl_s": 60, "max_entries": 5}}).close()
    assert run_app(cache_cli.app, ["clear"]) == 0
    assert "Removed 4 cached entries from every namespace" in capsys.readouterr().out
    with open_cache(cache_url) as cache:
        assert cache.stats()["default"].entries == 0
        assert "other" not in cache.stats()


def test_clear_an_unknown_namespace_fails(cache_url: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    populate(cache_url).close()
    assert run_app(cache_cli.app, ["clear", "--namespace", "defualt"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no cache namespace 'defualt'; did you mean 'default'?")
    with open_cache(cache_url) as cache:
        assert cache.stats()["default"].entries == 3


def test_bad_url_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_app(cache_cli.app, ["stats", "--url", "mysql://x"]) == 1
    assert capsys.readouterr().err.startswith("error: unsupported cache URL 'mysql://x'")


def test_unreachable_redis_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("redis")
    assert run_app(cache_cli.app, ["stats", "--url", "redis://127.0.0.1:1/0"]) == 1
    assert capsys.readouterr().err.startswith("error: cannot read the cache at redis://")


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("stats", "clear"):
        assert run_app(cache_cli.app, [command, "--help"]) == 0
        assert "Example: modelrouter cache" in capsys.readouterr().out
