"""`modelrouter alerts` and `modelrouter recommend`: what the ledger says needs attention."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import typer

from modelrouter.cli._common import JSON_HELP, fail, print_json, print_table

DatabaseOpt = Annotated[str | None, typer.Option(
    "--database", help="Ledger URL (default MODELROUTER_DATABASE_URL or the local SQLite).")]
ConfigOpt = Annotated[str | None, typer.Option("--config", help="A modelrouter.toml file.")]


def _budget_usage(config: Any) -> list[tuple[str, Any]]:
    from modelrouter.routing.accounting import default_budget_store

    store = default_budget_store(config)
    if store is None:
        return []
    used = []
    try:
        for budget in store.budgets():
            if "*" in budget.scope:
                continue  # a per-key default has no counters of its own
            status = store.status(budget.scope)
            if status is not None:
                used.append((f"{status.budget_scope}/{status.period}", status.used_fraction))
    finally:
        store.close()
    return used


def alerts(
    database: DatabaseOpt = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Check the thresholds against the last alert window, fire what is new (log and
    webhook, once per window), and list current and recent alerts. Safe to run from cron.

    Example: modelrouter alerts --json
    """
    from modelrouter.config import load_config
    from modelrouter.usage.alerts import AlertBook, AlertMetrics, default_alert_path, evaluate
    from modelrouter.usage.ledger import open_ledger
    from modelrouter.usage.summary import summarize_ledger

    cfg = load_config(config)
    since = datetime.now(UTC) - timedelta(seconds=cfg.alerts.window_s)
    with open_ledger(database) as ledger:
        total = summarize_ledger(ledger, "day", since=since, config=cfg).total
    metrics = AlertMetrics(
        requests=total.requests,
        p95_latency_s=None if total.latency_p95_ms is None else total.latency_p95_ms / 1000,
        fallback_rate=total.fallback_rate,
        cache_hit_rate=total.cache_hit_rate,
        cache_enabled=cfg.cache.enabled,
        budgets=_budget_usage(cfg),
    )
    current = evaluate(metrics, cfg.alerts, cfg.budget.alert_threshold)
    book = AlertBook(default_alert_path(), cfg.alerts)
    fired = book.fire(current)
    recent = book.recent(20)
    if as_json:
        print_json({"window_s": cfg.alerts.window_s, "requests": total.requests,
                    "current": [a.to_dict() for a in current],
                    "fired_now": [a.to_dict() for a in fired],
                    "recent": [a.to_dict() for a in recent]})
        return
    typer.echo(f"Last {cfg.alerts.window_s / 3600:g} h: {total.requests} requests.")
    if not current:
        typer.echo("No threshold is crossed now.")
    for alert in current:
        typer.echo(f"[{alert.severity}] {alert.name}: {alert.message}")
    if recent:
        print_table("Recent alerts", ["time", "severity", "alert", "message"],
                    [(a.time.strftime("%Y-%m-%d %H:%M"), a.severity, a.name, a.message)
                     for a in reversed(recent)])


def recommend(
    since: Annotated[str | None, typer.Option(
        "--since", help="From this UTC date (YYYY-MM-DD); default 30 days ago.")] = None,
    database: DatabaseOpt = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Free-usage share against the 70–90 % target, the most used models, and cheaper models
    of the same quality for the costly (model, task) pairs, with the monthly saving.

    Example: modelrouter recommend --since 2026-11-01
    """
    from modelrouter.catalog.loader import get_catalog
    from modelrouter.catalog.pricing import format_usd
    from modelrouter.config import load_config
    from modelrouter.usage.ledger import open_ledger
    from modelrouter.usage.recommend import PairUsage
    from modelrouter.usage.recommend import recommend as advise

    today = datetime.now(UTC).date()
    try:
        start = date.fromisoformat(since) if since else today - timedelta(days=30)
    except ValueError:
        fail(f"--since {since!r} is not a date; use YYYY-MM-DD", code=2)
    cfg = load_config(config)
    with open_ledger(database) as ledger:
        rows = [r for r in ledger.records(start) if r.success]
    pairs: dict[tuple[str, str | None], list[Any]] = {}
    for r in rows:
        acc = pairs.setdefault((r.model, r.task), [0, 0, 0, 0, 0, r.free])
        usage = r.usage
        acc[0] += 1
        if usage is not None:
            acc[1] += usage.input_tokens
            acc[2] += usage.output_tokens
            acc[3] += usage.cached_input_tokens
        acc[4] += r.cost_usd or 0
    from decimal import Decimal

    result = advise(
        [PairUsage(m, t, a[0], a[1], a[2], a[3], Decimal(a[4]), a[5])
         for (m, t), a in pairs.items()],
        get_catalog(), days=(today - start).days or 1,
        task_requirements={name: t.require for name, t in cfg.tasks.items()},
    )
    if as_json:
        print_json(result.to_dict())
        return
    typer.echo(f"Since {start.isoformat()}: {result.requests} answered requests. "
               f"{result.free_advice}.")
    if result.top_models:
        print_table("Most used models", ["model", "requests", "cost"],
                    [(m, n, format_usd(c)) for m, n, c in result.top_models])
    if result.switches:
        print_table("Cheaper models of the same quality", [
            "model", "task", "instead", "requests", "cost", "would cost", "saved / month"],
            [(s.model, s.task or "-", s.alternative, s.requests,
              format_usd(s.current_cost_usd), format_usd(s.alternative_cost_usd),
              format_usd(s.monthly_saving_usd)) for s in result.switches])
    else:
        typer.echo("No cheaper model of the same quality would save 10 % or more.")
