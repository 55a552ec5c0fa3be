"""A tiny Prometheus registry: counters, gauges and fixed-bucket histograms with labels.

The hot path resolves a labelled child once (``requests.labels(model, provider, tier, "200")``
is a dict lookup; keep the child if the labels repeat) and then ``inc``/``observe`` is a float
add (plus a ``bisect`` for histograms). No locks: the gateway runs one asyncio thread per
process. Metrics are **per process**: with ``--workers N`` each worker exposes its own, so
scrape every worker (or sum in Prometheus). ``render()`` writes text exposition format 0.0.4.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "CONTENT_TYPE",
    "LATENCY_BUCKETS",
    "Counter",
    "GatewayMetrics",
    "Gauge",
    "Histogram",
    "Registry",
]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return repr(int(value)) if value == int(value) and abs(value) < 1e15 else repr(value)


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


class _Value:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0


class _CounterChild(_Value):
    __slots__ = ()

    def inc(self, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        self.value += amount


class _GaugeChild(_Value):
    __slots__ = ()

    def set(self, value: float) -> None:
        self.value = value

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


class _HistogramChild:
    __slots__ = ("bounds", "count", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last slot is +Inf
        self.count = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.count += 1
        self.sum += value


class _Metric:
    kind = ""

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help
        self.labelnames = tuple(labelnames)
        self._children: dict[tuple[str, ...], object] = {}

    def _new(self) -> object:
        raise NotImplementedError

    def _child(self, values: tuple[str, ...]) -> object:
        child = self._children.get(values)
        if child is None:
            if len(values) != len(self.labelnames):
                raise ValueError(f"{self.name} takes labels {self.labelnames}, got {values}")
            child = self._children[values] = self._new()
        return child

    def _header(self) -> list[str]:
        text = self.help.replace("\\", "\\\\").replace("\n", "\\n")
        return [f"# HELP {self.name} {text}", f"# TYPE {self.name} {self.kind}"]

    def render(self) -> list[str]:
        raise NotImplementedError


class _Scalar(_Metric):
    def render(self) -> list[str]:
        lines = self._header()
        for values, child in self._children.items():
            assert isinstance(child, _Value)
            lines.append(f"{self.name}{_labels(self.labelnames, values)} {_number(child.value)}")
        return lines


class Counter(_Scalar):
    kind = "counter"

    def _new(self) -> _CounterChild:
        return _CounterChild()

    def labels(self, *values: str) -> _CounterChild:
        child = self._child(values)
        assert isinstance(child, _CounterChild)
        return child

    def inc(self, amount: float = 1.0) -> None:
        self.labels().inc(amount)


class Gauge(_Scalar):
    kind = "gauge"

    def _new(self) -> _GaugeChild:
        return _GaugeChild()

    def labels(self, *values: str) -> _GaugeChild:
        child = self._child(values)
        assert isinstance(child, _GaugeChild)
        return child

    def set(self, value: float) -> None:
        self.labels().set(value)


class Histogram(_Metric):
    kind = "histogram"

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = (),
                 buckets: Sequence[float] = LATENCY_BUCKETS) -> None:
        super().__init__(name, help, labelnames)
        self.buckets = tuple(sorted(float(b) for b in buckets if not math.isinf(b)))

    def _new(self) -> _HistogramChild:
        return _HistogramChild(self.buckets)

    def labels(self, *values: str) -> _HistogramChild:
        child = self._child(values)
        assert isinstance(child, _HistogramChild)
        return child

    def observe(self, value: float) -> None:
        self.labels().observe(value)

    def render(self) -> list[str]:
        lines = self._header()
        names = self.labelnames
        for values, child in self._children.items():
            assert isinstance(child, _HistogramChild)
            running = 0
            for bound, count in zip((*self.buckets, math.inf), child.counts, strict=True):
                running += count
                le = f'le="{_number(bound)}"'
                lines.append(f"{self.name}_bucket{_labels(names, values, le)} {running}")
            lines.append(f"{self.name}_sum{_labels(names, values)} {_number(child.sum)}")
            lines.append(f"{self.name}_count{_labels(names, values)} {child.count}")
        return lines


class Registry:
    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}

    def _add(self, metric: _Metric) -> None:
        if metric.name in self._metrics:
            raise ValueError(f"metric {metric.name} is already registered")
        self._metrics[metric.name] = metric
        if not metric.labelnames:
            metric._child(())  # an unlabelled metric is exposed as 0 from the start

    def counter(self, name: str, help: str, labelnames: Sequence[str] = ()) -> Counter:
        metric = Counter(name, help, labelnames)
        self._add(metric)
        return metric

    def gauge(self, name: str, help: str, labelnames: Sequence[str] = ()) -> Gauge:
        metric = Gauge(name, help, labelnames)
        self._add(metric)
        return metric

    def histogram(self, name: str, help: str, labelnames: Sequence[str] = (),
                  buckets: Sequence[float] = LATENCY_BUCKETS) -> Histogram:
        metric = Histogram(name, help, labelnames, buckets)
        self._add(metric)
        return metric

    def render(self) -> str:
        lines: list[str] = []
        for metric in self._metrics.values():
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"


@dataclass(slots=True)
class GatewayMetrics:
    """The gateway's metrics, by convention, in one registry."""

    registry: Registry
    requests: Counter
    request_duration: Histogram
    time_to_first_token: Histogram
    tokens: Counter
    cost_usd: Counter
    fallbacks: Counter
    cache_hits: Counter
    breaker_open: Gauge
    budget_remaining_usd: Gauge

    @classmethod
    def create(cls) -> GatewayMetrics:
        r = Registry()
        return cls(
            registry=r,
            requests=r.counter("modelrouter_requests_total", "Requests answered.",
                               ("model", "provider", "tier", "status")),
            request_duration=r.histogram(
                "modelrouter_request_duration_seconds", "Time to the last byte.", ("model",)),
            time_to_first_token=r.histogram(
                "modelrouter_time_to_first_token_seconds", "Time to the first streamed token.",
                ("model",)),
            tokens=r.counter("modelrouter_tokens_total", "Tokens by kind (input, output).",
                             ("model", "kind")),
            cost_usd=r.counter("modelrouter_cost_usd_total", "Spend in USD.", ("model",)),
            fallbacks=r.counter("modelrouter_fallbacks_total", "Fallbacks to another model."),
            cache_hits=r.counter("modelrouter_cache_hits_total", "Responses from the cache."),
            breaker_open=r.gauge("modelrouter_breaker_open", "1 while the breaker is open.",
                                 ("model",)),
            budget_remaining_usd=r.gauge("modelrouter_budget_remaining_usd",
                                         "Budget left in the current window.", ("scope",)),
        )

    def render(self) -> str:
        return self.registry.render()
