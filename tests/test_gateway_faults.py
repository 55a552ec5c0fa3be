"""Through a live gateway: the routing fault matrix as a client sees it (status, body) and
as the ledger holds it; request signing; and a fuzz of request bodies (never a 5xx)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelrouter.gateway.signing import sign
from modelrouter.testing import FakeProvider, Fault
from modelrouter.usage.ledger import open_ledger
from tests.gateway_fixtures import MASTER, Live, live_gateway

NANO = "gpt-5-nano"
CONFIG = """
[tiers.fast]
models = ["openai:gpt-5-nano", "anthropic:claude-haiku-4-5"]
timeout_ms = 1500
[retry]
max_retries = 0
"""
AUTH = {"authorization": f"Bearer {MASTER}"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with FakeProvider() as fake, live_gateway(
        fake, tmp_path_factory.mktemp("gwf"), config=CONFIG,
        extra_env={"MODELROUTER_SIGNING_SECRET": ""},
    ) as gw:
        yield gw


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Live]:
    """A gateway of its own: cooldowns and breakers from one fault must not leak."""
    with FakeProvider() as fake, live_gateway(fake, tmp_path, config=CONFIG) as gw:
        yield gw


def ask(live: Live, model: str = "tier:fast") -> httpx.Response:
    return httpx.post(f"{live.url}/v1/chat/completions", headers=AUTH, timeout=20,
                      json={"model": model, "messages": [{"role": "user", "content": "go"}]})


def ledger_rows(live: Live) -> list[object]:
    with open_ledger(f"sqlite:///{Path(live.home) / 'usage.db'}") as ledger:
        return list(ledger.records())


@pytest.mark.parametrize(
    ("fault", "error_class"),
    [
        (Fault.rate_limit(retry_after=120), "RateLimitError"),
        (Fault.server_error(500), "InternalServerError"),
        (Fault.connection_reset(), "ProviderConnectionError"),
        (Fault.malformed_json(), "ProviderError"),
        (Fault.wrong_content_type(), "ProviderError"),
        (Fault.hang(5), "ProviderTimeoutError"),
    ],
)
def test_fault_on_first_model_falls_back(fresh: Live, fault: Fault, error_class: str) -> None:
    live = fresh
    before = len(ledger_rows(live))
    live.fake.script(NANO, [fault])
    response = ask(live)
    assert response.status_code == 200, response.text
    assert response.headers["x-modelrouter-model"] == "anthropic:claude-haiku-4-5"
    assert response.headers["x-modelrouter-fallback-depth"] == "1"
    rows = ledger_rows(live)[before:]
    assert [(r.model, r.outcome, r.error_class) for r in rows] == [  # type: ignore[attr-defined]
        ("openai:gpt-5-nano", "error", error_class),
        ("anthropic:claude-haiku-4-5", "success", None)]


@pytest.mark.parametrize(
    ("fault", "status"),
    [(Fault.server_error(503), {502, 503}), (Fault.hang(5), {504}),
     (Fault.rate_limit(retry_after=120), {503})],
)
def test_when_every_model_fails_the_status_says_why(fresh: Live, fault: Fault,
                                                    status: set[int]) -> None:
    live = fresh
    live.fake.always("*", fault)
    try:
        response = ask(live)
    finally:
        live.fake.always("*", None)
    assert response.status_code in status, response.text
    assert response.json()["error"]["message"]
    if response.status_code == 503:
        assert "retry-after" in response.headers


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(
    st.binary(max_size=300),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                 lambda inner: st.lists(inner, max_size=4)
                 | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                 max_leaves=12).map(lambda v: __import__("json").dumps(v).encode()),
    st.fixed_dictionaries({"model": st.text(max_size=12), "messages": st.lists(
        st.dictionaries(st.sampled_from(["role", "content", "name", "tool_calls"]),
                        st.text(max_size=10) | st.integers(), max_size=3), max_size=3)},
    ).map(lambda v: __import__("json").dumps(v).encode()),
))
def test_fuzzed_bodies_never_get_a_5xx(live: Live, body: bytes) -> None:
    response = httpx.post(f"{live.url}/v1/chat/completions", content=body, headers=AUTH,
                          timeout=20)
    assert response.status_code < 500 or response.status_code in (502, 503, 504), (
        body, response.text)
    assert response.status_code != 500
    assert "error" in response.json() or response.status_code == 200


def test_signed_requests(tmp_path: Path) -> None:
    secret = "signing-secret-for-tests"
    with FakeProvider() as fake, live_gateway(
        fake, tmp_path, config=CONFIG, extra_env={"MODELROUTER_SIGNING_SECRET": secret},
    ) as gw:
        body = b'{"model":"tier:fast","messages":[{"role":"user","content":"signed"}]}'
        headers = {**AUTH, **sign(secret.encode(), "POST", "/v1/chat/completions", body)}
        ok = httpx.post(f"{gw.url}/v1/chat/completions", content=body, headers=headers)
        assert ok.status_code == 200
        replay = httpx.post(f"{gw.url}/v1/chat/completions", content=body, headers=headers)
        assert replay.status_code == 401 and "signature" in replay.json()["error"]["message"]
        unsigned = httpx.post(f"{gw.url}/v1/chat/completions", content=body, headers=AUTH)
        assert unsigned.status_code == 401
