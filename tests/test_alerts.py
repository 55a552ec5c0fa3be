"""Alerts: thresholds, once per window, the log, and a webhook on a loopback receiver."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from modelrouter.config.schema import AlertSettings
from modelrouter.usage.alerts import AlertBook, AlertMetrics, evaluate, request_cost_alerts

SETTINGS = AlertSettings()
T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cost", "expected"),
    [(Decimal("0.10"), []), (Decimal("0.1000001"), ["warning"]), (Decimal("0.50"), ["warning"]),
     (Decimal("0.51"), ["critical"]), (None, [])],
)
def test_request_cost(cost: Decimal | None, expected: list[str]) -> None:
    alerts = request_cost_alerts("openai:gpt-5", cost, SETTINGS, "req_1")
    assert [a.severity for a in alerts] == expected


@pytest.mark.parametrize(
    ("metrics", "names"),
    [
        (AlertMetrics(requests=100, p95_latency_s=31), ["p95_latency"]),
        (AlertMetrics(requests=100, p95_latency_s=30), []),
        (AlertMetrics(requests=100, fallback_rate=0.11), ["fallback_rate"]),
        (AlertMetrics(requests=10, fallback_rate=0.5), []),  # too few requests to judge
        (AlertMetrics(requests=100, cache_hit_rate=0.1, cache_enabled=True), ["cache_hit_rate"]),
        (AlertMetrics(requests=100, cache_hit_rate=0.1, cache_enabled=False), []),
        (AlertMetrics(budgets=[("global/month", Decimal("0.79"))]), []),
        (AlertMetrics(budgets=[("global/month", Decimal("0.8"))]), ["budget:warning"]),
        (AlertMetrics(budgets=[("key:abc/day", Decimal("1"))]), ["budget:critical"]),
    ],
)
def test_window_thresholds(metrics: AlertMetrics, names: list[str]) -> None:
    got = [a.name if a.name != "budget" else f"budget:{a.severity}"
           for a in evaluate(metrics, SETTINGS)]
    assert got == names


def test_budget_threshold_is_configurable() -> None:
    metrics = AlertMetrics(budgets=[("global/month", Decimal("0.6"))])
    assert evaluate(metrics, SETTINGS, budget_threshold=Decimal("0.5"))[0].severity == "warning"


class _Receiver(BaseHTTPRequestHandler):
    bodies: ClassVar[list[Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers["content-length"])
        _Receiver.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_fires_once_per_window_logs_and_posts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Receiver.bodies = []
    try:
        settings = AlertSettings(window_s=600,
                                 webhook_url=f"http://127.0.0.1:{server.server_port}/hook")
        book = AlertBook(tmp_path / "alerts.jsonl", settings)
        alert = evaluate(AlertMetrics(requests=50, fallback_rate=0.5), settings)
        with caplog.at_level(logging.WARNING, logger="modelrouter.alerts"):
            assert len(book.fire(alert, T0)) == 1
        assert "fallback_rate alert: 50% of requests fell back" in caplog.text
        assert book.fire(alert, T0 + timedelta(minutes=5)) == []  # same window: silent
        assert len(book.fire(alert, T0 + timedelta(minutes=10))) == 1  # next window
        assert len(_Receiver.bodies) == 2
        assert _Receiver.bodies[0]["alerts"][0]["name"] == "fallback_rate"
        reopened = AlertBook(tmp_path / "alerts.jsonl", settings)  # state survives restarts
        assert reopened.fire(alert, T0 + timedelta(minutes=12)) == []
        assert [a.name for a in reopened.recent()] == ["fallback_rate", "fallback_rate"]
    finally:
        server.shutdown()


def test_webhook_failure_never_raises(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = AlertSettings(webhook_url="http://127.0.0.1:9/nothing-listens")
    book = AlertBook(tmp_path / "alerts.jsonl", settings, webhook_timeout_s=0.5)
    with caplog.at_level(logging.WARNING, logger="modelrouter.alerts"):
        fired = book.fire(request_cost_alerts("m", Decimal("1"), settings), T0)
    assert len(fired) == 1 and "alert webhook" in caplog.text


def test_torn_last_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    book = AlertBook(path, SETTINGS)
    book.fire(request_cost_alerts("m", Decimal("1"), SETTINGS), T0)
    with path.open("a") as handle:
        handle.write('{"name": "cost_per_req')  # a crash mid-write
    assert len(AlertBook(path, SETTINGS).recent()) == 1
