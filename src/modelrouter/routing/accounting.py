"""What the router owes the books: record every attempt, hold and settle budget, raise alerts.

One object so the router has one call site per moment (before a call, after it, on failure),
and so a failing ledger or alert webhook never fails a request that already has its answer.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from modelrouter.config.schema import RouterConfig
from modelrouter.routing.records import AttemptRecord, UsageSink

if TYPE_CHECKING:
    from modelrouter.usage.alerts import AlertBook
    from modelrouter.usage.budgets import BudgetStore, Reservation

log = logging.getLogger("modelrouter.router")


def request_scopes(key: str | None, team: str | None, tags: Sequence[str]) -> list[str]:
    """The budget scopes a request counts against, most general first."""
    scopes = ["global"]
    if key:
        scopes.append(f"key:{key}")
    if team:
        scopes.append(f"team:{team}")
    scopes.extend(f"tag:{tag}" for tag in tags)
    return scopes


class _LazyLedger:
    """The default sink: the usage ledger, opened on the first attempt (no I/O before)."""

    def __init__(self) -> None:
        self._ledger: UsageSink | None = None

    def record(self, record: AttemptRecord) -> None:
        if self._ledger is None:
            from modelrouter.usage.ledger import open_ledger

            self._ledger = open_ledger()
        self._ledger.record(record)


def default_budget_store(config: RouterConfig) -> BudgetStore | None:
    """A budget store when any budget can apply: from config/env, Redis, or a store the CLI
    already wrote; None otherwise, so an unbudgeted router does no budget I/O at all."""
    from modelrouter.paths import user_data_dir
    from modelrouter.usage.budgets import budgets_from_config, open_budget_store

    configured = budgets_from_config(config)
    redis_url = os.environ.get("MODELROUTER_REDIS_URL")
    local = user_data_dir() / "budgets.db"
    if not configured and not redis_url and not local.exists():
        return None
    store = open_budget_store(redis_url)
    if configured:
        store.sync_config(configured)
    return store


class Accounting:
    def __init__(self, config: RouterConfig, sink: UsageSink,
                 budgets: BudgetStore | None, alerts: AlertBook | None) -> None:
        self.config = config
        self.sink = sink
        self.budgets = budgets
        self.alerts = alerts

    @classmethod
    def from_config(
        cls, config: RouterConfig, *, sink: UsageSink | None,
        budgets: BudgetStore | str | None, alerts: AlertBook | str | None,
    ) -> Accounting:
        store = default_budget_store(config) if budgets == "config" else budgets
        if alerts == "config":
            from modelrouter.usage.alerts import AlertBook, default_alert_path

            alerts = AlertBook(default_alert_path(), config.alerts)
        return cls(config, sink or _LazyLedger(), store,  # type: ignore[arg-type]
                   alerts)  # type: ignore[arg-type]

    # ----------------------------------------------------------------- the ledger

    def record(self, record: AttemptRecord) -> None:
        try:
            self.sink.record(record)
        except Exception as exc:  # the answer is paid for; losing the row must not lose it
            log.error("usage not recorded for %s (%s): %s", record.request_id, record.model, exc)
        if self.alerts is not None and record.cost_usd is not None and (
            record.cost_usd > self.config.alerts.cost_per_request_warn_usd
        ):
            from modelrouter.usage.alerts import request_cost_alerts

            self._fire(request_cost_alerts(record.model, record.cost_usd, self.config.alerts,
                                           record.request_id))

    # ----------------------------------------------------------------- budgets

    def remaining(self, scopes: Sequence[str]) -> Decimal | None:
        return None if self.budgets is None else self.budgets.remaining(scopes)

    def reserve(self, scopes: Sequence[str], amount: Decimal | None, request_id: str,
                ttl_s: float) -> Reservation | None:
        """Hold ``amount`` in every scope (BudgetExceededError if any would overflow)."""
        if self.budgets is None or amount is None or amount <= 0:
            return None
        return self.budgets.reserve(scopes, amount, request_id=request_id,
                                    ttl_s=max(ttl_s, 300.0))

    def settle(self, held: Reservation | None, actual: Decimal | None,
               scopes: Sequence[str]) -> None:
        if held is None or self.budgets is None:
            return
        # An unknown actual cost settles at the reserved worst case: never under-count.
        self.budgets.settle(held, held.amount if actual is None else actual)
        if self.alerts is not None:
            self._budget_alerts(scopes)

    def release(self, held: Reservation | None) -> None:
        if held is not None and self.budgets is not None:
            self.budgets.release(held)

    def _budget_alerts(self, scopes: Sequence[str]) -> None:
        from modelrouter.usage.alerts import AlertMetrics, evaluate

        assert self.budgets is not None
        used = []
        for scope in scopes:
            status = self.budgets.status(scope)
            if status is not None:
                used.append((f"{status.budget_scope}/{status.period}", status.used_fraction))
        self._fire(evaluate(AlertMetrics(budgets=used), self.config.alerts,
                            self.config.budget.alert_threshold))

    def _fire(self, alerts: Sequence[object]) -> None:
        if not alerts or self.alerts is None:
            return
        try:
            self.alerts.fire(alerts)  # type: ignore[arg-type]
        except OSError as exc:
            log.error("alerts not written: %s", exc)
