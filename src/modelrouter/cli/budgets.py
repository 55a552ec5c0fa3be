"""`modelrouter budgets set|list|show|remove`: spending limits per scope and period."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelrouter.cli._common import JSON_HELP, fail, print_json, print_table

if TYPE_CHECKING:
    from modelrouter.usage.budgets import Budget, BudgetStatus, BudgetStore

app = typer.Typer(
    help=(
        "Budgets per scope (global, key:<id>, team:<id>, tag:<name>) and period (day, month, "
        "total): set them, list them, see what is spent.\n\n"
        "Example: modelrouter budgets set key:alice --limit 25 --period month"
    ),
    no_args_is_help=True,
)

StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="redis://… or sqlite:///PATH; default MODELROUTER_REDIS_URL, else budgets.db in "
        "the user data directory.",
    ),
]
ConfigOpt = Annotated[
    str | None, typer.Option("--config", help="A modelrouter.toml whose budgets to include.")
]
ScopeArg = Annotated[
    str, typer.Argument(help="global, key:<id>, team:<id>, tag:<name>, or key:* (per-key default).")
]


def _scope(text: str) -> str:
    from modelrouter.usage.budgets import parse_scope

    try:
        return parse_scope(text)
    except ValueError as exc:
        fail(str(exc), code=2)


def _open(url: str | None) -> BudgetStore:
    from modelrouter.usage.budgets import open_budget_store

    try:
        return open_budget_store(url)
    except ValueError as exc:
        fail(str(exc), code=2)


def _open_synced(url: str | None, config: str | None) -> BudgetStore:
    """The store, with the budgets of the config and env (AI_MONTHLY_BUDGET…) written in."""
    from modelrouter.config import load_config
    from modelrouter.usage.budgets import budgets_from_config

    budgets = budgets_from_config(load_config(config))
    store = _open(url)
    store.sync_config(budgets)
    return store


def _usd(amount: Any) -> str:
    from modelrouter.catalog.pricing import format_usd

    return format_usd(amount)


@app.command("set")
def set_budget(
    scope: ScopeArg,
    limit: Annotated[str, typer.Option("--limit", help="The limit in USD, e.g. 25 or 0.50.")],
    period: Annotated[str, typer.Option("--period", help="day, month or total.")] = "month",
    store: StoreOpt = None,
) -> None:
    """Create or replace the budget of a scope (a CLI budget wins over the config's).

    Example: modelrouter budgets set team:research --limit 100 --period month
    """
    from modelrouter.usage.budgets import PERIODS, Budget, parse_limit

    canonical = _scope(scope)
    try:
        amount = parse_limit(limit.strip().removeprefix("$"))
    except ValueError as exc:
        fail(f"--limit {limit!r}: {exc}", code=2)
    if period not in PERIODS:
        fail(f"--period {period!r}: use day, month or total", code=2)
    budget = Budget(canonical, period, amount, source="cli")
    opened = _open(store)
    try:
        opened.set_budget(budget)
    finally:
        opened.close()
    typer.echo(f"{canonical}: ${_usd(amount)} per {period}")


@app.command("remove")
def remove_budget(scope: ScopeArg, store: StoreOpt = None) -> None:
    """Delete a scope's budget; spend counters stay. Config budgets come back from the config.

    Example: modelrouter budgets remove key:alice
    """
    canonical = _scope(scope)
    opened = _open(store)
    try:
        removed = opened.remove_budget(canonical)
    finally:
        opened.close()
    if not removed:
        fail(f"no budget defined for {canonical!r}")
    typer.echo(f"removed the budget of {canonical}")


@app.command("list")
def list_budgets(
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Every budget with its current window, spend and what remains.

    Example: modelrouter budgets list --json
    """
    from modelrouter.usage.budgets import DEFAULT_KEY_SCOPE

    opened = _open_synced(store, config)
    try:
        rows: list[tuple[Budget, BudgetStatus | None]] = [
            (b, None if b.scope == DEFAULT_KEY_SCOPE else opened.status(b.scope))
            for b in opened.budgets()
        ]
    finally:
        opened.close()
    if as_json:
        print_json([_entry(budget, status) for budget, status in rows])
        return
    if not rows:
        typer.echo("no budgets; set one with: modelrouter budgets set global --limit 50")
        return
    print_table(
        "Budgets",
        ["scope", "period", "limit", "spent", "reserved", "remaining", "% used", "window",
         "source"],
        [_row(budget, status) for budget, status in rows],
    )


def _entry(budget: Budget, status: BudgetStatus | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "scope": budget.scope,
        "period": budget.period,
        "limit_usd": budget.limit_usd,
        "source": budget.source,
    }
    if status is not None:
        entry.update(status.to_dict())
    return entry


def _row(budget: Budget, status: BudgetStatus | None) -> list[str]:
    head = [budget.scope, budget.period, _usd(budget.limit_usd)]
    if status is None:
        return [*head, "", "", "", "", "each key", budget.source]
    return [*head, _usd(status.spent), _usd(status.reserved), _usd(status.remaining),
            f"{status.percent_used}", status.window, budget.source]


@app.command("show")
def show_budget(
    scope: ScopeArg,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """One scope's budget now: limit, spent, reserved, remaining, % used and the window.

    Example: modelrouter budgets show key:alice
    """
    from modelrouter.usage.budgets import DEFAULT_KEY_SCOPE

    canonical = _scope(scope)
    if canonical == DEFAULT_KEY_SCOPE:
        fail("key:* is the default for each key; show a key, e.g. key:alice", code=2)
    opened = _open_synced(store, config)
    try:
        status = opened.status(canonical)
    finally:
        opened.close()
    if status is None:
        fail(f"no budget applies to {canonical!r}; set one with: "
             f"modelrouter budgets set {canonical} --limit USD")
    if as_json:
        print_json(status.to_dict())
        return
    resets = status.resets_at.isoformat() if status.resets_at else "never (total)"
    budget_from = "" if status.budget_scope == canonical else f" (from {status.budget_scope})"
    lines = [
        ("scope", f"{canonical}{budget_from}"),
        ("period", f"{status.period}, window {status.window}, resets {resets}"),
        ("limit", f"${_usd(status.limit)}"),
        ("spent", f"${_usd(status.spent)}"),
        ("reserved", f"${_usd(status.reserved)}"),
        ("remaining", f"${_usd(status.remaining)}"),
        ("used", f"{status.percent_used} %"),
    ]
    for name, value in lines:
        typer.echo(f"{name:<10} {value}")
