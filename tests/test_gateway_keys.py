"""Virtual keys on real SQLite and PostgreSQL: shown once, hashed, revoked, rotated, expired.

PostgreSQL tests skip only when it is unreachable and CI is unset; in CI they fail.
"""

from __future__ import annotations

import hmac
import os
import stat
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from modelrouter.gateway import keys as keys_module
from modelrouter.gateway.keys import AuditLog, KeyStore, VirtualKey, allows_model

PG_URL = os.environ.get("MODELROUTER_TEST_POSTGRES_URL",
                        "postgresql://postgres@127.0.0.1:5432/test")
SECRET = b"s" * 32


def _require_postgres() -> None:
    try:
        import psycopg

        psycopg.connect(PG_URL, connect_timeout=3).close()
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {PG_URL} is required in CI: {exc}")
        pytest.skip(f"PostgreSQL at {PG_URL} is not reachable: {exc}")


@pytest.fixture
def pg_schema() -> Iterator[str]:
    _require_postgres()
    import psycopg

    name = f"mrtest_keys_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    opened: list[KeyStore] = []
    schema = request.getfixturevalue("pg_schema") if request.param == "postgresql" else None
    url = PG_URL if schema else f"sqlite:///{tmp_path / 'gateway.db'}"

    def make(**options: Any) -> KeyStore:
        options.setdefault("secret", SECRET)
        options.setdefault("audit", AuditLog(tmp_path / "audit.jsonl"))
        store = KeyStore(url, schema=schema, **options)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def test_key_is_shown_once_and_only_its_keyed_hash_is_stored(make_store: Any) -> None:
    store = make_store()
    plain, key = store.create("alice", rpm=10)
    assert plain.startswith("mr-") and len(plain) == 3 + 43
    assert key.prefix == plain[:8]
    digest = hmac.new(SECRET, plain.encode(), "sha256").hexdigest()
    rows = store._db.run("SELECT * FROM gateway_keys")
    assert len(rows) == 1
    stored = " ".join(str(cell) for cell in rows[0])
    assert plain not in stored and plain[8:] not in stored and digest in stored
    assert "digest" not in key.to_dict() and all(plain not in str(k.to_dict())
                                                 for k in store.list())


def test_sqlite_file_bytes_never_hold_the_key(tmp_path: Path) -> None:
    db = tmp_path / "gateway.db"
    with KeyStore(f"sqlite:///{db}", secret=SECRET, audit=AuditLog(tmp_path / "a.jsonl")) as s:
        plains = [s.create(f"k{i}")[0] for i in range(5)]
        s.authenticate(plains[0])
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir())  # db, -wal, -shm, audit
    for plain in plains:
        assert plain.encode() not in blob and plain[8:].encode() not in blob
    assert hmac.new(SECRET, plains[0].encode(), "sha256").hexdigest().encode() in blob


def test_authenticate_uses_a_constant_time_compare(
    make_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(keys_module.hmac, "compare_digest", spy)
    store = make_store()
    plain, key = store.create("bob")
    found = store.authenticate(plain)
    assert found is not None and found.id == key.id
    assert len(calls) == 1 and calls[0][0] == calls[0][1]


def test_wrong_malformed_and_unknown_keys_fail_and_are_audited(
    make_store: Any, tmp_path: Path
) -> None:
    store = make_store()
    plain, _ = store.create("carol")
    assert store.authenticate(plain[:-1] + ("A" if plain[-1] != "A" else "B")) is None
    assert store.authenticate("sk-not-ours") is None
    assert store.authenticate("") is None
    events = AuditLog(tmp_path / "audit.jsonl").events()
    failures = [e for e in events if e["event"] == "auth.failure"]
    assert [e["reason"] for e in failures] == ["unknown", "malformed", "malformed"]
    assert failures[0]["prefix"] == plain[:8] and failures[1]["prefix"] is None
    assert plain[8:] not in (tmp_path / "audit.jsonl").read_text()
    assert events[0]["event"] == "key.create"


def test_steady_state_authentication_does_no_database_io(
    make_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store()
    plain, _ = store.create("dave")
    assert store.authenticate(plain) is not None
    queries: list[str] = []
    real = keys_module._Db.run

    def spy(self: Any, sql: str, params: Any = ()) -> Any:
        queries.append(sql)
        return real(self, sql, params)

    monkeypatch.setattr(keys_module._Db, "run", spy)
    for _ in range(100):
        assert store.authenticate(plain) is not None
    assert queries == []


def test_revoke_takes_effect_here_at_once_and_on_another_replica_within_the_ttl(
    make_store: Any,
) -> None:
    here = make_store(cache_ttl_s=0.3)
    there = make_store(cache_ttl_s=0.3)
    plain, key = here.create("erin")
    assert here.authenticate(plain) and there.authenticate(plain)
    assert here.revoke(key.id) and not here.revoke(key.id)
    assert here.authenticate(plain) is None
    assert there.authenticate(plain) is not None  # cached: the documented window
    time.sleep(0.35)
    assert there.authenticate(plain) is None
    assert here.get(key.id).revoked_at is not None  # type: ignore[union-attr]


def test_rotate_keeps_the_id_and_kills_the_old_key(make_store: Any) -> None:
    store = make_store()
    old, key = store.create("frank", rpm=5)
    store.authenticate(old)
    new = store.rotate(key.id)
    assert new != old and store.authenticate(old) is None
    found = store.authenticate(new)
    assert found is not None and found.id == key.id and found.rpm == 5
    assert store.get(key.id).prefix == new[:8]  # type: ignore[union-attr]
    store.revoke(key.id)
    with pytest.raises(KeyError):
        store.rotate(key.id)


def test_expired_keys_fail_even_when_cached(make_store: Any) -> None:
    store = make_store()
    gone, _ = store.create("old", expires=datetime.now(UTC) - timedelta(seconds=1))
    assert store.authenticate(gone) is None
    soon, key = store.create("soon", expires=datetime.now(UTC) + timedelta(seconds=0.3))
    assert store.authenticate(soon) is not None
    time.sleep(0.35)
    assert store.authenticate(soon) is None
    assert store.get(key.id).expires_at is not None  # type: ignore[union-attr]


def test_settings_round_trip(make_store: Any) -> None:
    store = make_store()
    until = datetime(2099, 1, 2, 3, 4, 5, tzinfo=UTC)
    plain, key = store.create("g", budget_usd=Decimal("12.5"), period="day", rpm=7, tpm=900,
                              models=["openai:gpt-5", "tier:fast"], expires=until)
    found = store.authenticate(plain)
    assert found == key
    assert found.budget_usd == Decimal("12.5") and found.expires_at == until
    assert found.scope == f"key:{key.id}"
    assert [k.id for k in store.list()] == [key.id]


def test_audit_records_admin_actions(make_store: Any, tmp_path: Path) -> None:
    store = make_store()
    _, key = store.create("h")
    store.rotate(key.id)
    store.revoke(key.id)
    events = AuditLog(tmp_path / "audit.jsonl").events()
    assert [e["event"] for e in events] == ["key.create", "key.rotate", "key.revoke"]
    assert all(e["key_id"] == key.id for e in events)


@pytest.mark.parametrize(
    ("models", "model", "tier", "allowed"),
    [
        ((), "any:model", None, True),
        (("openai:gpt-5",), "openai:gpt-5", "advanced", True),
        (("openai:gpt-5",), "openai:gpt-5-mini", "fast", False),
        (("tier:fast",), "openai:gpt-5-mini", "fast", True),
        (("tier:fast",), "openai:gpt-5", "advanced", False),
        (("tier:fast",), "openai:gpt-5", None, False),
        (("tier:fast", "openai:gpt-5"), "openai:gpt-5", "advanced", True),
    ],
)
def test_model_allow_list(models: tuple[str, ...], model: str, tier: str | None,
                          allowed: bool) -> None:
    key = VirtualKey("k1", "n", "mr-abcde", datetime.now(UTC), models=models)
    assert allows_model(key, model, tier) is allowed


def test_server_secret_file_is_private_created_once_and_env_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELROUTER_SECRET", raising=False)
    path = tmp_path / "sub" / "gateway.secret"
    first = keys_module.load_server_secret(path)
    assert len(first) == 32 and keys_module.load_server_secret(path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["gateway.secret"]
    monkeypatch.setenv("MODELROUTER_SECRET", "x" * 20)
    assert keys_module.load_server_secret(path) == b"x" * 20
    monkeypatch.setenv("MODELROUTER_SECRET", "short")
    with pytest.raises(Exception, match="at least 16"):
        keys_module.load_server_secret(path)


def test_default_store_lives_in_the_user_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODELROUTER_SECRET", raising=False)
    home = Path(os.environ["MODELROUTER_HOME"])
    with KeyStore() as store:
        plain, _ = store.create("i")
        assert store.authenticate(plain) is not None
    assert {"gateway.db", "gateway.secret", "audit.jsonl"} <= {p.name for p in home.iterdir()}
    with KeyStore() as again:  # the same secret file: the key still works
        assert again.authenticate(plain) is not None


def test_async_authenticate_hits_the_cache_inline(make_store: Any) -> None:
    import asyncio

    store = make_store()
    plain, key = store.create("j")

    async def main() -> tuple[VirtualKey | None, VirtualKey | None, VirtualKey | None]:
        first = await store.authenticate_async(plain)
        second = await store.authenticate_async(plain)
        return first, second, await store.authenticate_async("mr-" + "A" * 43)

    first, second, bad = asyncio.run(main())
    assert first == second == key and bad is None
