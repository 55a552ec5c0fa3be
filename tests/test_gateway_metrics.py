"""The Prometheus registry: exposition format 0.0.4, parsed back by a strict reader."""

from __future__ import annotations

import math
import re
import timeit

import pytest

from modelrouter.gateway.metrics import CONTENT_TYPE, GatewayMetrics, Registry

_SAMPLE = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})? (?P<value>\S+)$'
)
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def parse(text: str) -> tuple[dict[str, str], dict[tuple[str, frozenset[tuple[str, str]]], float]]:
    """``(types, samples)``; fails on any line that is not valid 0.0.4 text."""
    assert text.endswith("\n")
    types: dict[str, str] = {}
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram") and name not in types
            types[name] = kind
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        raw = match.group("labels") or ""
        pairs = _LABEL.findall(raw)
        assert "".join(f'{k}="{v}",' for k, v in pairs).rstrip(",") == raw, raw
        labels = frozenset((k, _unescape(v)) for k, v in pairs)
        value = match.group("value")
        samples[(match.group("name"), labels)] = float(value.replace("Inf", "inf"))
    return types, samples


def test_gateway_metrics_render_and_parse_back() -> None:
    m = GatewayMetrics.create()
    ok = m.requests.labels("openai:gpt-5", "openai", "advanced", "200")
    ok.inc()
    ok.inc()
    m.requests.labels('we"ird\\model\n', "p", "fast", "502").inc()
    duration = m.request_duration.labels("openai:gpt-5")
    for value in (0.003, 0.02, 0.02, 0.7, 100.0):
        duration.observe(value)
    m.time_to_first_token.labels("openai:gpt-5").observe(0.1)  # exactly on a bound: le
    m.tokens.labels("openai:gpt-5", "input").inc(1200)
    m.cost_usd.labels("openai:gpt-5").inc(0.0125)
    m.fallbacks.inc()
    m.breaker_open.labels("x:y").set(1)
    m.budget_remaining_usd.labels("key:k1").set(4.5)
    types, samples = parse(m.render())
    assert types == {
        "modelrouter_requests_total": "counter",
        "modelrouter_request_duration_seconds": "histogram",
        "modelrouter_time_to_first_token_seconds": "histogram",
        "modelrouter_tokens_total": "counter",
        "modelrouter_cost_usd_total": "counter",
        "modelrouter_fallbacks_total": "counter",
        "modelrouter_cache_hits_total": "counter",
        "modelrouter_breaker_open": "gauge",
        "modelrouter_budget_remaining_usd": "gauge",
    }

    def s(name: str, **labels: str) -> float:
        return samples[(name, frozenset(labels.items()))]

    assert s("modelrouter_requests_total", model="openai:gpt-5", provider="openai",
             tier="advanced", status="200") == 2
    assert s("modelrouter_requests_total", model='we"ird\\model\n', provider="p", tier="fast",
             status="502") == 1
    h = "modelrouter_request_duration_seconds"
    assert s(h + "_bucket", model="openai:gpt-5", le="0.005") == 1
    assert s(h + "_bucket", model="openai:gpt-5", le="0.025") == 3
    assert s(h + "_bucket", model="openai:gpt-5", le="60") == 4
    assert s(h + "_bucket", model="openai:gpt-5", le="+Inf") == 5 == s(h + "_count",
                                                                        model="openai:gpt-5")
    assert s(h + "_sum", model="openai:gpt-5") == pytest.approx(100.743)
    assert s("modelrouter_time_to_first_token_seconds_bucket", model="openai:gpt-5",
             le="0.1") == 1
    assert s("modelrouter_cost_usd_total", model="openai:gpt-5") == 0.0125
    assert s("modelrouter_fallbacks_total") == 1 and s("modelrouter_cache_hits_total") == 0
    assert s("modelrouter_budget_remaining_usd", scope="key:k1") == 4.5
    buckets = sorted((float(dict(k[1])["le"].replace("Inf", "inf")), v)
                     for k, v in samples.items() if k[0] == h + "_bucket")
    assert [v for _, v in buckets] == sorted(v for _, v in buckets)  # cumulative
    assert buckets[-1][0] == math.inf
    assert CONTENT_TYPE == "text/plain; version=0.0.4; charset=utf-8"


def test_misuse_is_refused() -> None:
    r = Registry()
    c = r.counter("a_total", "help", ("x",))
    with pytest.raises(ValueError):
        c.labels("1", "2")
    with pytest.raises(ValueError):
        c.labels("1").inc(-1)
    with pytest.raises(ValueError):
        r.gauge("a_total", "again")
    assert r.render() == '# HELP a_total help\n# TYPE a_total counter\na_total{x="1"} 0\n'


def test_hot_path_is_cheap() -> None:
    m = GatewayMetrics.create()
    child = m.requests.labels("m", "p", "t", "200")
    hist = m.request_duration.labels("m")
    per_inc = min(timeit.repeat(child.inc, number=20000, repeat=3)) / 20000
    per_observe = min(timeit.repeat(lambda: hist.observe(0.2), number=20000, repeat=3)) / 20000
    assert per_inc < 5e-6 and per_observe < 10e-6  # generous: a shared 2-core machine
