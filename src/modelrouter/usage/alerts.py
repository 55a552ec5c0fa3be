"""Alerts: thresholds checked against recent usage, each fired once per window.

The checks are pure (``request_cost_alerts``, ``evaluate``); ``AlertBook`` is the I/O shell that
remembers what fired (a JSON-lines file), logs it and posts it to an optional webhook.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from modelrouter.config.schema import AlertSettings

log = logging.getLogger("modelrouter.alerts")

Severity = Literal["warning", "critical"]
MIN_REQUESTS_FOR_RATES = 20  # rates over fewer requests are noise, not a signal


@dataclass(frozen=True, slots=True)
class Alert:
    name: str  # cost_per_request | p95_latency | fallback_rate | cache_hit_rate | budget
    severity: Severity
    scope: str  # what it is about: a model, "global", a budget scope…
    message: str
    value: str
    threshold: str
    time: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def dedupe_key(self) -> str:
        return f"{self.name}:{self.severity}:{self.scope}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["time"] = self.time.isoformat()
        return data


@dataclass(frozen=True, slots=True)
class AlertMetrics:
    """What the window's usage looked like (from the ledger's summary)."""

    requests: int = 0
    p95_latency_s: float | None = None
    fallback_rate: float | None = None
    cache_hit_rate: float | None = None
    cache_enabled: bool = False
    budgets: Sequence[tuple[str, Decimal]] = ()  # (scope, fraction used: 0.85 = 85 %)


def request_cost_alerts(model: str, cost: Decimal | None, settings: AlertSettings,
                        request_id: str = "") -> list[Alert]:
    """Per-request cost: > warn ($0.10) is a warning, > critical ($0.50) is critical."""
    if cost is None:
        return []
    for severity, limit in (("critical", settings.cost_per_request_critical_usd),
                            ("warning", settings.cost_per_request_warn_usd)):
        if cost > limit:
            return [Alert("cost_per_request", severity, model,  # type: ignore[arg-type]
                          f"request {request_id or '?'} on {model} cost ${cost} "
                          f"(over ${limit})", str(cost), str(limit))]
    return []


def evaluate(metrics: AlertMetrics, settings: AlertSettings,
             budget_threshold: Decimal = Decimal("0.8")) -> list[Alert]:
    """The window-level alerts (DESIGN §4), pure."""
    alerts: list[Alert] = []
    enough = metrics.requests >= MIN_REQUESTS_FOR_RATES
    if metrics.p95_latency_s is not None and metrics.p95_latency_s > settings.p95_latency_s:
        alerts.append(Alert("p95_latency", "warning", "global",
                            f"p95 latency {metrics.p95_latency_s:.1f}s is over "
                            f"{settings.p95_latency_s:.0f}s", f"{metrics.p95_latency_s:.3f}",
                            f"{settings.p95_latency_s:g}"))
    if enough and metrics.fallback_rate is not None and (
        metrics.fallback_rate > settings.max_fallback_rate
    ):
        alerts.append(Alert("fallback_rate", "warning", "global",
                            f"{metrics.fallback_rate:.0%} of requests fell back (over "
                            f"{settings.max_fallback_rate:.0%})", f"{metrics.fallback_rate:.4f}",
                            f"{settings.max_fallback_rate:g}"))
    if enough and metrics.cache_enabled and metrics.cache_hit_rate is not None and (
        metrics.cache_hit_rate < settings.min_cache_hit_rate
    ):
        alerts.append(Alert("cache_hit_rate", "warning", "global",
                            f"cache hit rate {metrics.cache_hit_rate:.0%} is under "
                            f"{settings.min_cache_hit_rate:.0%}", f"{metrics.cache_hit_rate:.4f}",
                            f"{settings.min_cache_hit_rate:g}"))
    for scope, used in metrics.budgets:
        if used >= 1:
            alerts.append(Alert("budget", "critical", scope,
                                f"budget {scope} is exhausted ({used:.0%} used)",
                                f"{used:.4f}", "1"))
        elif used >= budget_threshold:
            alerts.append(Alert("budget", "warning", scope,
                                f"budget {scope} is at {used:.0%} (alert at "
                                f"{budget_threshold:.0%})", f"{used:.4f}", str(budget_threshold)))
    return alerts


class AlertBook:
    """Fired alerts on disk; each (name, severity, scope) at most once per window."""

    def __init__(self, path: str | Path, settings: AlertSettings, *,
                 webhook_timeout_s: float = 2.0) -> None:
        self.path = Path(path)
        self.settings = settings
        self._timeout = webhook_timeout_s
        self._lock = threading.Lock()

    def fire(self, alerts: Iterable[Alert], now: datetime | None = None) -> list[Alert]:
        """Record, log and post the alerts not already fired in this window; returns them."""
        moment = now or datetime.now(UTC)
        window = timedelta(seconds=self.settings.window_s)
        with self._lock:
            last = {a.dedupe_key: a.time for a in self._read()}
            fresh = [a for a in alerts
                     if a.dedupe_key not in last or moment - last[a.dedupe_key] >= window]
            fresh = [Alert(a.name, a.severity, a.scope, a.message, a.value, a.threshold, moment)
                     for a in fresh]
            if fresh:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as handle:
                    for alert in fresh:
                        handle.write(json.dumps(alert.to_dict()) + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
        for alert in fresh:
            level = logging.CRITICAL if alert.severity == "critical" else logging.WARNING
            log.log(level, "%s alert: %s", alert.name, alert.message)
        if fresh and self.settings.webhook_url:
            self._post(fresh)
        return fresh

    def recent(self, limit: int = 50) -> list[Alert]:
        return self._read()[-limit:]

    def _read(self) -> list[Alert]:
        if not self.path.exists():
            return []
        alerts: list[Alert] = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(line)
                data["time"] = datetime.fromisoformat(data["time"])
                alerts.append(Alert(**data))
            except (ValueError, TypeError, KeyError):
                continue  # a torn last line after a crash: skip it, keep the rest
        return alerts

    def _post(self, alerts: Sequence[Alert]) -> None:
        import httpx

        url = self.settings.webhook_url
        assert url is not None
        try:
            response = httpx.post(url, json={"alerts": [a.to_dict() for a in alerts]},
                                  timeout=self._timeout)
            if response.status_code >= 400:
                log.warning("alert webhook %s answered %s", url, response.status_code)
        except httpx.HTTPError as exc:  # alerts must never break the caller
            log.warning("alert webhook %s failed: %s", url, exc)


def default_alert_path() -> Path:
    from modelrouter.paths import user_data_dir

    return user_data_dir() / "alerts.jsonl"
