"""Free-model discovery: reading the list, classifying, probing on the fake, and the command."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import tomllib
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer

from modelrouter.catalog.schema import QualityClass, SpeedClass
from modelrouter.cli._common import run_app
from modelrouter.cli.discover import discover
from modelrouter.discovery import free_models as fm
from modelrouter.discovery import report as reporting
from modelrouter.discovery.probe import ProbeResult, probe_models
from modelrouter.discovery.report import DiscoveredModel, DiscoveryRun, choose_tiers
from modelrouter.testing import FakeProvider, Fault

OPENROUTER = "openrouter/models_api_snapshot.json"


def entry(model: str, prompt: str = "0", completion: str = "0", *,
          outputs: tuple[str, ...] = ("text",), context: int = 131072) -> dict[str, Any]:
    return {"id": model, "name": model.split("/")[-1], "context_length": context,
            "architecture": {"input_modalities": ["text"], "output_modalities": list(outputs)},
            "pricing": {"prompt": prompt, "completion": completion},
            "top_provider": {"context_length": context, "max_completion_tokens": 4096}}


SMALL = {"data": [
    entry("meta-llama/llama-3.3-70b-instruct:free"),
    entry("openai/gpt-oss-20b:free"),
    entry("acme/zeta-8b"),  # free without the :free suffix
    entry("openai/gpt-5", "0.00000125", "0.00001"),  # paid
    entry("openrouter/auto", "-1", "-1"),  # a router with a dynamic price
    entry("openrouter/free"),  # OpenRouter's free router
    entry("google/lyria-3-pro-preview", outputs=("text", "audio")),  # a music generator
    entry("acme/painter:free", outputs=("image",)),
]}


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the list


def test_free_models_keeps_free_chat_models_free_suffix_first() -> None:
    models = fm.free_models(SMALL)
    assert [m.id for m in models] == [
        "meta-llama/llama-3.3-70b-instruct:free", "openai/gpt-oss-20b:free", "acme/zeta-8b"]
    assert models[0].model_id == "openrouter:meta-llama/llama-3.3-70b-instruct:free"
    assert models[0].context_tokens == 131072


@pytest.mark.needs_shared
def test_snapshot_has_the_documented_free_models(shared_data: Path) -> None:
    models = fm.free_models(fm.load_model_list(str(shared_data / OPENROUTER)))
    ids = [m.id for m in models]
    # 29 are priced "0": minus the free router and the two Lyria music generators.
    assert len(ids) == 26
    assert "openrouter/free" not in ids and not any("lyria" in i for i in ids)
    suffixed = [i.endswith(":free") for i in ids]
    assert suffixed == sorted(suffixed, reverse=True)
    assert "meta-llama/llama-3.3-70b-instruct:free" in ids


@pytest.mark.parametrize("data", [[], {"models": []}, {"data": "x"}])
def test_a_body_that_is_not_openrouters_is_a_source_error(data: Any) -> None:
    with pytest.raises(fm.SourceError, match="OpenRouter"):
        fm.free_models(data)


def test_unreadable_sources(tmp_path: Path) -> None:
    with pytest.raises(fm.SourceError, match="cannot read"):
        fm.load_model_list(str(tmp_path / "missing.json"))
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(fm.SourceError, match="not JSON"):
        fm.load_model_list(str(tmp_path / "bad.json"))


# --------------------------------------------------------------------------- classifying


@pytest.mark.parametrize(("model", "name", "expected"), [
    ("meta-llama/llama-3.3-70b-instruct:free", "", (70.0, 70.0)),
    ("nvidia/nemotron-3-nano-30b-a3b:free", "", (30.0, 3.0)),
    ("liquid/lfm-2.5-1.2b-instruct:free", "", (1.2, 1.2)),
    ("inclusionai/ring-2.6-1t:free", "", (1000.0, 1000.0)),
    ("qwen/qwen3-coder:free", "Qwen: Qwen3 Coder 480B A35B (free)", (480.0, 35.0)),
    ("z-ai/glm-4.5-air:free", "Z.ai: GLM 4.5 Air (free)", (None, None)),
])
def test_parameter_hints(model: str, name: str,
                         expected: tuple[float | None, float | None]) -> None:
    assert fm.parameter_hint(model, name) == expected


def model(model_id: str, context: int = 131072, name: str = "") -> fm.FreeModel:
    return fm.FreeModel(model_id, name or model_id, context, *fm.parameter_hint(model_id, name))


@pytest.mark.parametrize(("latency", "expected"), [
    (0.2, SpeedClass.FAST), (1.49, SpeedClass.FAST), (1.5, SpeedClass.STANDARD),
    (3.99, SpeedClass.STANDARD), (4.0, SpeedClass.SLOW)])
def test_speed_from_measured_latency(latency: float, expected: SpeedClass) -> None:
    assert fm.speed_class(model("acme/x"), latency) is expected


def test_speed_without_a_probe_comes_from_the_size() -> None:
    sizes = ("x-8b", "x-70b", "x-405b", "x-120b-a12b", "mystery")
    speeds = [fm.speed_class(model(f"acme/{size}")) for size in sizes]
    assert speeds == [SpeedClass.FAST, SpeedClass.STANDARD, SpeedClass.SLOW, SpeedClass.FAST,
                      None]


@pytest.mark.parametrize(("model_id", "context", "expected"), [
    ("meta-llama/llama-3.2-3b-instruct:free", 131072, QualityClass.BASIC),
    ("deepseek/deepseek-r1-distill-qwen-7b", 131072, QualityClass.BASIC),  # size beats family
    ("deepseek/deepseek-v4-flash:free", 1048576, QualityClass.HIGH),
    ("openai/gpt-oss-120b:free", 131072, QualityClass.HIGH),
    ("meta-llama/llama-3.3-70b-instruct:free", 65536, QualityClass.STANDARD),
    ("google/gemma-3-27b-it:free", 131072, QualityClass.STANDARD),
    ("acme/unknown-200b", 8192, QualityClass.HIGH),
    ("acme/unknown-30b", 8192, QualityClass.STANDARD),
    ("acme/mystery", 200000, QualityClass.STANDARD),
    ("acme/mystery", 8192, QualityClass.BASIC),
])
def test_quality_table(model_id: str, context: int, expected: QualityClass) -> None:
    assert fm.quality_class(model(model_id, context)) is expected


def probed(model_id: str, latency: float | None, ok: bool = True) -> DiscoveredModel:
    probe = None if latency is None else ProbeResult(model_id, ok, latency,
                                                     None if ok else "RateLimitError")
    return DiscoveredModel(model(model_id), probe)


def test_choose_tiers_uses_only_available_models() -> None:
    models = [
        probed("meta-llama/llama-3.3-70b-instruct:free", 0.9),
        probed("meta-llama/llama-3.2-3b-instruct:free", 0.4),
        probed("openai/gpt-oss-120b:free", 5.0),  # high quality but slow
        probed("deepseek/deepseek-v4-flash:free", 2.0),
        probed("qwen/qwen3-coder:free", 0.1, ok=False),  # rate limited: never chosen
    ]
    tiers = choose_tiers(models)
    assert tiers["fast"][:2] == ["openrouter:meta-llama/llama-3.2-3b-instruct:free",
                                 "openrouter:meta-llama/llama-3.3-70b-instruct:free"]
    assert tiers["advanced"][:2] == ["openrouter:deepseek/deepseek-v4-flash:free",
                                     "openrouter:openai/gpt-oss-120b:free"]
    assert "openrouter:openai/gpt-oss-120b:free" not in tiers["balanced"]
    assert tiers["balanced"][0] == "openrouter:deepseek/deepseek-v4-flash:free"
    assert all("qwen3-coder" not in m for chosen in tiers.values() for m in chosen)
    assert all(len(chosen) <= 3 for chosen in tiers.values())
    assert choose_tiers([probed("acme/x", 1.0, ok=False)]) == {}


def test_env_lines_and_config_fragment_round_trip() -> None:
    tiers = {"fast": ["openrouter:a:free"], "balanced": ["openrouter:b:free", "openrouter:c"],
             "advanced": ["openrouter:d:free"]}
    assert reporting.env_lines(tiers) == [
        "MODEL_FREE_BUDGET_1=openrouter:a:free", "MODEL_FREE_FALLBACK_1=openrouter:b:free",
        "MODEL_FREE_FALLBACK_2=openrouter:c", "MODEL_FREE_PREMIUM_1=openrouter:d:free"]
    parsed = tomllib.loads(reporting.config_fragment(tiers, date(2026, 5, 15)))
    assert {t: v["models"] for t, v in parsed["tiers"].items()} == tiers


# --------------------------------------------------------------------------- files


def test_write_atomic_never_leaves_a_half_written_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "free.toml"
    reporting.write_atomic(target, "old = 1\n")

    def crash(src: str, dst: str) -> None:  # the process dies between write and rename
        raise OSError("disk full")

    monkeypatch.setattr(reporting.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        reporting.write_atomic(target, "new = 2\n")
    assert target.read_text(encoding="utf-8") == "old = 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["free.toml"]


def test_cache_is_reused_only_while_fresh_and_for_the_same_question(tmp_path: Path) -> None:
    day = date(2026, 5, 15)
    run = DiscoveryRun(day, "models.json", True, (probed("acme/x-8b", 0.5),), "http://h/v1")
    path = reporting.save_cache(run, tmp_path / "cache.json")

    def load(**kw: Any) -> DiscoveryRun | None:
        return reporting.load_cache(**{"source": "models.json", "today": day, "tested": True,
                                       "base_url": "http://h/v1", "path": path, **kw})

    cached = load(today=day + timedelta(days=29))
    assert cached is not None and cached.from_cache and cached.models == run.models
    assert load(today=day + timedelta(days=30)) is None  # too old
    assert load(source="other.json") is None
    assert load(base_url="http://elsewhere/v1") is None
    assert load(tested=False) is not None  # a tested run answers an untested question
    untested = DiscoveryRun(day, "models.json", False, run.models)
    reporting.save_cache(untested, path)
    assert load() is None  # an untested run cannot answer --test
    path.write_text("{garbage", encoding="utf-8")
    assert load(tested=False) is None


# --------------------------------------------------------------------------- probing


class CountingTransport(httpx.AsyncHTTPTransport):
    """Counts requests in flight, to check the concurrency bound at the wire."""

    in_flight = max_in_flight = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            response = await super().handle_async_request(request)
            await response.aread()
            return response
        finally:
            self.in_flight -= 1


def test_probes_record_ok_errors_and_latency_within_the_bound(fake: FakeProvider) -> None:
    names = ["good-1", "good-2", "good-3", "limited", "broken", "stuck"]
    for name in ("good-1", "good-2", "good-3"):
        fake.script(name, [Fault.hang(0.15)])  # slow enough that probes overlap
    fake.script("limited", [Fault.rate_limit(retry_after=30)])
    fake.script("broken", [Fault.server_error(500)])
    fake.script("stuck", [Fault.hang(5)])
    transport = CountingTransport()
    done: list[str] = []

    async def go() -> list[ProbeResult]:
        async with httpx.AsyncClient(transport=transport) as client:
            return await probe_models(names, base_url=f"{fake.base_url}/v1", api_key="or-key",
                                      concurrency=2, timeout_s=0.5, client=client,
                                      on_done=lambda r: done.append(r.model))

    results = {r.model: r for r in asyncio.run(go())}
    assert transport.max_in_flight == 2
    assert sorted(done) == sorted(names)
    for name in ("good-1", "good-2", "good-3"):
        assert results[name].ok and results[name].latency_s >= 0.15
    assert {n: (results[n].error_class, results[n].status_code) for n in names[3:]} == {
        "limited": ("RateLimitError", 429), "broken": ("InternalServerError", 500),
        "stuck": ("ProviderTimeoutError", None)}
    assert 0.5 <= results["stuck"].latency_s < 2.0
    assert {(q.body["max_tokens"], q.headers["authorization"]) for q in fake.requests} == {
        (8, "Bearer or-key")}


# --------------------------------------------------------------------------- the command


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """A stand-in for the real ``modelrouter`` group (the lead registers the command)."""

    app.command("discover")(discover)
    code = run_app(app, ["discover", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_command_writes_report_config_cache_and_env_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = write_json(tmp_path / "models.json", SMALL)
    config = tmp_path / "conf" / "free.toml"
    code, out, err = run_cli(capsys, "--source", str(source), "--report", str(tmp_path / "rep"),
                             "--write-config", str(config), "--json")
    assert code == 0, err
    body = json.loads(out)
    assert body["count"] == 3 and body["from_cache"] is False
    report = Path(body["report"])
    assert report.name == f"free-models-{date.fromisoformat(body['date'])}.json"
    saved = json.loads(report.read_text(encoding="utf-8"))
    first = saved["models"][0]
    assert first["id"] == "openrouter:meta-llama/llama-3.3-70b-instruct:free"
    assert {"name", "context_tokens", "speed", "quality", "probe", "latency_ms"} <= set(first)
    tiers = tomllib.loads(config.read_text(encoding="utf-8"))["tiers"]
    assert set(tiers) == {"fast", "balanced", "advanced"}
    assert all(m.startswith("openrouter:") for t in tiers.values() for m in t["models"])
    assert f"MODEL_FREE_BUDGET_1={tiers['fast']['models'][0]}" in body["env"]
    assert any(line.startswith("MODEL_FREE_PREMIUM_1=") for line in body["env"])
    assert (Path(os.environ["MODELROUTER_HOME"]) / "discovery" / "free-models.json").is_file()

    code, out, _ = run_cli(capsys, "--source", str(source))  # for people: a table, env lines
    assert code == 0 and "(cached)" in out and "openrouter:openai/gpt-oss-20b:free" in out
    assert f"MODEL_FREE_BUDGET_1={tiers['fast']['models'][0]}" in out
    code, out, _ = run_cli(capsys, "--source", str(source), "--json")
    assert json.loads(out)["from_cache"] is True
    code, out, _ = run_cli(capsys, "--source", str(source), "--json", "--refresh")
    assert json.loads(out)["from_cache"] is False
    code, out, _ = run_cli(capsys, "--source", str(source), "--json", "--max-age-days", "0")
    assert json.loads(out)["from_cache"] is False


@pytest.mark.parametrize("content", ["{nope", json.dumps({"models": []})])
def test_bad_source_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str
) -> None:
    source = tmp_path / "models.json"
    source.write_text(content, encoding="utf-8")
    for path in (source, tmp_path / "missing.json"):
        code, out, err = run_cli(capsys, "--source", str(path))
        assert code == 1 and out == ""
        assert err.startswith("error: ") and err.count("\n") == 1, err


def test_nothing_free_is_exit_0_with_a_message(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = write_json(tmp_path / "models.json",
                        {"data": [entry("openai/gpt-5", "0.00000125", "0.00001")]})
    code, out, _ = run_cli(capsys, "--source", str(source), "--write-config", str(tmp_path / "c"))
    assert code == 0 and "No free models" in out and not (tmp_path / "c").exists()


@pytest.fixture
def list_server() -> Iterator[str]:
    """Serves SMALL at /api/v1/models on loopback; anything else is a 404."""
    body = json.dumps(SMALL).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path == "/api/v1/models"
            self.send_response(200 if found else 404)
            self.end_headers()
            self.wfile.write(body if found else b"{}")

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_source_url_on_loopback(capsys: pytest.CaptureFixture[str], list_server: str) -> None:
    code, out, _ = run_cli(capsys, "--source", f"{list_server}/api/v1/models", "--json")
    assert code == 0 and json.loads(out)["count"] == 3
    code, out, err = run_cli(capsys, "--source", f"{list_server}/nowhere")
    assert code == 1 and "HTTP 404" in err and err.count("\n") == 1


def test_command_test_probes_through_the_fake_and_adopts_only_what_answered(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fake: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = write_json(tmp_path / "models.json", SMALL)
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    code, _, err = run_cli(capsys, "--source", str(source), "--test")  # OpenRouter needs a key
    assert code == 1 and "OPENROUTER_API_KEY" in err and not fake.requests
    monkeypatch.setenv("OPENROUTER_API_KEY", "or-live")
    fake.always("meta-llama/llama-3.3-70b-instruct:free", Fault.rate_limit(retry_after=60))
    fake.always("acme/zeta-8b", Fault.hang(5))
    config = tmp_path / "free.toml"
    code, out, err = run_cli(
        capsys, "--source", str(source), "--test", "--base-url", f"{fake.base_url}/v1",
        "--timeout", "0.4", "--concurrency", "2", "--write-config", str(config), "--json")
    assert code == 0, err
    body = json.loads(out)
    assert body["tested"] is True and body["available"] == 1
    probes = {m["openrouter_id"]: m["probe"] for m in body["models"]}
    assert probes["meta-llama/llama-3.3-70b-instruct:free"]["error_class"] == "RateLimitError"
    assert probes["acme/zeta-8b"]["error_class"] == "ProviderTimeoutError"
    assert probes["openai/gpt-oss-20b:free"]["ok"] is True
    tiers = tomllib.loads(config.read_text(encoding="utf-8"))["tiers"]
    assert {t: v["models"] for t, v in tiers.items()} == {
        t: ["openrouter:openai/gpt-oss-20b:free"] for t in ("fast", "balanced", "advanced")}
    assert {(q.body["max_tokens"], q.headers["authorization"]) for q in fake.requests} == {
        (8, "Bearer or-live")}

