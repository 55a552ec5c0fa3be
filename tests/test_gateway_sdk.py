"""The gateway through the official openai and anthropic SDKs, over real loopback sockets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import openai
import pytest

from modelrouter.testing import FakeProvider, Fault
from modelrouter.usage.ledger import open_ledger
from tests.gateway_fixtures import MASTER, Live, live_gateway

FREE = "meta-llama/llama-3.3-70b-instruct:free"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with FakeProvider() as fake, live_gateway(fake, tmp_path_factory.mktemp("gw")) as gw:
        yield gw


@pytest.fixture(autouse=True)
def _reset(live: Live) -> None:
    live.fake.reset()


def client(live: Live) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live.url}/v1", api_key=MASTER, max_retries=0)


def test_openai_sync_completion_with_receipt_headers(live: Live) -> None:
    raw = client(live).chat.completions.with_raw_response.create(
        model="tier:fast", messages=[{"role": "user", "content": "hello gateway"}])
    completion = raw.parse()
    assert completion.choices[0].message.content.startswith(f"[{FREE}] hello gateway")
    assert completion.usage is not None and completion.usage.total_tokens > 0
    assert raw.headers["x-modelrouter-model"] == f"openrouter:{FREE}"
    assert raw.headers["x-modelrouter-tier"] == "fast"
    assert raw.headers["x-modelrouter-fallback-depth"] == "0"
    assert raw.headers["x-modelrouter-cost-usd"] == "0.00"


def test_openai_streaming_has_usage(live: Live) -> None:
    stream = client(live).chat.completions.create(
        model="openai:gpt-5-nano", stream=True,
        messages=[{"role": "user", "content": "stream through the gateway"}])
    text, usage = "", None
    for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        if chunk.usage is not None:
            usage = chunk.usage
    assert text.startswith("[gpt-5-nano] stream through the gateway")
    assert usage is not None and usage.completion_tokens > 0


def test_openai_async_and_tools(live: Live) -> None:
    async def go() -> openai.types.chat.ChatCompletion:
        async with openai.AsyncOpenAI(base_url=f"{live.url}/v1", api_key=MASTER,
                                      max_retries=0) as aclient:
            return await aclient.chat.completions.create(
                model="openai:gpt-5-mini",
                messages=[{"role": "user", "content": "please call the weather tool"}],
                tools=[{"type": "function", "function": {
                    "name": "get_weather", "parameters": {
                        "type": "object", "properties": {"city": {"type": "string"}}}}}])

    completion = asyncio.run(go())
    call = completion.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_weather"
    assert completion.choices[0].finish_reason == "tool_calls"


def test_anthropic_sdk_messages_and_stream(live: Live) -> None:
    sdk = anthropic.Anthropic(base_url=live.url, api_key=MASTER, max_retries=0)
    message = sdk.messages.create(model="anthropic:claude-haiku-4-5", max_tokens=64,
                                  messages=[{"role": "user", "content": "hi from anthropic"}])
    assert message.content[0].text.startswith("[claude-haiku-4-5] hi from anthropic")
    assert message.usage.output_tokens > 0
    with sdk.messages.stream(model="anthropic:claude-haiku-4-5", max_tokens=64,
                             messages=[{"role": "user", "content": "stream it"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text.startswith("[claude-haiku-4-5] stream it")
    assert final.usage.output_tokens > 0


@pytest.mark.parametrize(
    ("kwargs", "status", "needle"),
    [
        ({"model": "openai:gpt-9"}, 404, "did you mean"),
        ({"model": "tier:fats"}, 404, "tier:fast"),
    ],
)
def test_errors_in_openai_shape(live: Live, kwargs: dict[str, str], status: int,
                                needle: str) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        client(live).chat.completions.create(messages=[{"role": "user", "content": "x"}],
                                             **kwargs)  # type: ignore[call-overload]
    assert info.value.status_code == status
    assert needle in str(info.value.body)


def test_bad_key_and_malformed_bodies_never_500(live: Live) -> None:
    bad = openai.OpenAI(base_url=f"{live.url}/v1", api_key="nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="tier:fast",
                                    messages=[{"role": "user", "content": "x"}])
    headers = {"authorization": f"Bearer {MASTER}"}
    for body in (b"{not json", b"\xff\xfe\xfa", b'{"model": 3, "messages": "no"}', b"[]",
                 json.dumps({"model": "tier:fast", "messages": []}).encode()):
        response = httpx.post(f"{live.url}/v1/chat/completions", content=body, headers=headers)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["message"]
    huge = httpx.post(f"{live.url}/v1/chat/completions", content=b"x" * (5 * 1024 * 1024),
                      headers=headers)
    assert huge.status_code == 413
    assert httpx.get(f"{live.url}/health").json() == {"status": "ok"}


def test_provider_failure_after_fallbacks_is_5xx_and_ledger_has_every_attempt(
    live: Live,
) -> None:
    live.fake.always("*", Fault.server_error(503))
    with pytest.raises(openai.APIStatusError) as info:
        client(live).chat.completions.create(
            model="tier:fast", messages=[{"role": "user", "content": "doomed"}])
    assert info.value.status_code in (502, 503)
    live.fake.always("*", None)
    with open_ledger(f"sqlite:///{live.home / 'usage.db'}") as ledger:
        doomed = [r for r in ledger.records() if r.outcome == "error"]
    assert {r.model for r in doomed} >= {f"openrouter:{FREE}", "openai:gpt-5-nano"}


def test_models_health_ready_metrics(live: Live) -> None:
    headers = {"authorization": f"Bearer {MASTER}"}
    ids = {m["id"] for m in httpx.get(f"{live.url}/v1/models", headers=headers).json()["data"]}
    assert {"openai:gpt-5", "sonnet-4-5", "tier:fast", "auto", "auto:cascade"} <= ids
    ready = httpx.get(f"{live.url}/ready")
    assert ready.status_code == 200 and ready.json()["checks"]["database"]["ok"]
    client(live).chat.completions.create(model="openai:gpt-5-nano",
                                         messages=[{"role": "user", "content": "count me"}])
    metrics = httpx.get(f"{live.url}/metrics").text
    assert 'modelrouter_requests_total{model="openai:gpt-5-nano"' in metrics
    assert 'modelrouter_breaker_open{model="openai:gpt-5-nano"} 0' in metrics
    assert "modelrouter_request_duration_seconds_bucket" in metrics


def test_idempotency_replays_and_conflicts(live: Live) -> None:
    headers = {"authorization": f"Bearer {MASTER}", "idempotency-key": "order-42"}
    body = {"model": "openai:gpt-5-nano", "messages": [{"role": "user", "content": "once"}]}
    first = httpx.post(f"{live.url}/v1/chat/completions", json=body, headers=headers)
    second = httpx.post(f"{live.url}/v1/chat/completions", json=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second.headers["x-modelrouter-idempotent-replay"] == "true"
    assert live.fake.calls("gpt-5-nano") == 1  # billed once
    other = httpx.post(f"{live.url}/v1/chat/completions", headers=headers,
                       json={**body, "messages": [{"role": "user", "content": "twice"}]})
    assert other.status_code == 409


def test_virtual_key_admin_api_allow_list(live: Live) -> None:
    admin = {"authorization": f"Bearer {MASTER}"}
    created = httpx.post(f"{live.url}/admin/keys", headers=admin,
                         json={"name": "app", "models": ["tier:fast"]})
    assert created.status_code == 201
    key = created.json()["key"]
    sdk = openai.OpenAI(base_url=f"{live.url}/v1", api_key=key, max_retries=0)
    ok = sdk.chat.completions.create(model="tier:fast",
                                     messages=[{"role": "user", "content": "allowed"}])
    assert ok.choices[0].message.content
    with pytest.raises(openai.PermissionDeniedError):
        sdk.chat.completions.create(model="openai:gpt-5",
                                    messages=[{"role": "user", "content": "not allowed"}])
    listed = httpx.get(f"{live.url}/admin/keys", headers=admin).json()["data"]
    assert key not in json.dumps(listed)
    key_id = created.json()["id"]
    assert httpx.post(f"{live.url}/admin/keys/{key_id}/revoke", headers=admin).status_code == 200
    with pytest.raises(openai.AuthenticationError):
        sdk.chat.completions.create(model="tier:fast",
                                    messages=[{"role": "user", "content": "revoked"}])


def test_registry_api(live: Live) -> None:
    headers = {"authorization": f"Bearer {MASTER}"}
    one = httpx.get(f"{live.url}/registry/models/gpt-5", headers=headers).json()
    assert one["id"] == "openai:gpt-5" and one["price_history"] and one["band"]
    assert one["health"]["breaker"] == "closed"
    missing = httpx.get(f"{live.url}/registry/models/gpt-9", headers=headers)
    assert missing.status_code == 404
    assert Path(live.home).exists()


def test_model_registry_url_reads_the_catalog_from_the_gateway(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelrouter.catalog.loader import Catalog, bundled_catalog_dir, get_catalog, reset_catalog
    from modelrouter.errors import CatalogError

    local = Catalog.load(bundled_catalog_dir())
    monkeypatch.setenv("MODEL_REGISTRY_URL", live.url)
    monkeypatch.setenv("MODEL_REGISTRY_KEY", MASTER)
    reset_catalog()
    remote = get_catalog()
    assert len(remote) == len(local)
    for model in ("openai:gpt-5", "google:gemini-2.5-pro", "deepseek:deepseek-chat"):
        assert remote.prices.history(remote.get(model).pricing_ref) == (
            local.prices.history(local.get(model).pricing_ref))
    monkeypatch.setenv("MODEL_REGISTRY_KEY", "wrong")
    reset_catalog()
    with pytest.raises(CatalogError, match="answered 401"):
        get_catalog()
    reset_catalog()


def test_auto_through_the_gateway(live: Live) -> None:
    raw = client(live).chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "hi"}])
    assert raw.parse().choices[0].message.content
    assert raw.headers["x-modelrouter-tier"] in ("balanced", "advanced")
    cascade = client(live).chat.completions.with_raw_response.create(
        model="auto:cascade", messages=[{"role": "user", "content": "What is 2 + 2?"}])
    assert cascade.parse().choices[0].message.content
    assert cascade.headers["x-modelrouter-tier"] in ("balanced", "advanced")
