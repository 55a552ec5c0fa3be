"""`modelrouter keys create|list|revoke|rotate`: the gateway's virtual keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from modelrouter.cli._common import JSON_HELP, fail, print_json, print_table

if TYPE_CHECKING:
    from modelrouter.gateway.keys import KeyStore

app = typer.Typer(
    help=(
        "Virtual keys for the gateway: each with its own budget, rate limits and allowed "
        "models. A key is shown once, at creation; only a keyed hash is stored.\n\n"
        "Example: modelrouter keys create --name alice --budget 25 --rpm 60 --models tier:fast"
    ),
    no_args_is_help=True,
)

DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="sqlite:///PATH or postgresql://…; default "
                 "MODELROUTER_DATABASE_URL, else gateway.db in the user data directory."),
]
StoreOpt = Annotated[
    str | None,
    typer.Option("--store", help="Budget store: redis://… or sqlite:///PATH; default "
                 "MODELROUTER_REDIS_URL, else budgets.db in the user data directory."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help=JSON_HELP)]
KeyIdArg = Annotated[str, typer.Argument(help="The key id (from `keys list`), not the key.")]

WARNING = "Store it now: this key cannot be shown again."


def _open(database: str | None) -> KeyStore:
    from modelrouter.gateway.keys import KeyStore

    return KeyStore(database)


def _expires(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        fail(f"--expires {text!r}: use a date (2026-12-31) or an ISO datetime", code=2)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment <= datetime.now(UTC):
        fail(f"--expires {text!r} is in the past", code=2)
    return moment


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="A label for people.")] = "",
    budget: Annotated[str | None, typer.Option("--budget", help="Spending limit in USD.")] = None,
    period: Annotated[str, typer.Option("--period", help="day, month or total.")] = "month",
    rpm: Annotated[int | None, typer.Option("--rpm", help="Requests per minute.")] = None,
    tpm: Annotated[int | None, typer.Option("--tpm", help="Tokens per minute.")] = None,
    models: Annotated[str | None, typer.Option(
        "--models", help="Allowed models, comma-separated; tier:<name> allows a tier.")] = None,
    expires: Annotated[str | None, typer.Option(
        "--expires", help="When the key stops working: a date (00:00 UTC) or ISO datetime.")
    ] = None,
    database: DatabaseOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a key and print it once (it cannot be shown again).

    Example: modelrouter keys create --name ci --budget 10 --period day --rpm 30 --models tier:fast
    """
    from modelrouter.usage.budgets import PERIODS, Budget, open_budget_store, parse_limit

    amount = None
    if budget is not None:
        try:
            amount = parse_limit(budget.strip().removeprefix("$"))
        except ValueError as exc:
            fail(f"--budget {budget!r}: {exc}", code=2)
    if period not in PERIODS:
        fail(f"--period {period!r}: use day, month or total", code=2)
    for label, value in (("--rpm", rpm), ("--tpm", tpm)):
        if value is not None and value <= 0:
            fail(f"{label} must be a positive integer", code=2)
    allowed = [m.strip() for m in (models or "").split(",") if m.strip()]
    when = _expires(expires)
    keys = _open(database)
    try:
        plain, key = keys.create(name, budget_usd=amount, period=period, rpm=rpm, tpm=tpm,
                                 models=allowed, expires=when)
    finally:
        keys.close()
    if amount is not None:
        budgets = open_budget_store(store)
        try:
            budgets.set_budget(Budget(key.scope, period, amount, source="cli"))
        finally:
            budgets.close()
    if as_json:
        print_json({**key.to_dict(), "key": plain, "warning": WARNING})
        return
    typer.echo(f"key id: {key.id}")
    typer.echo(f"key:    {plain}")
    typer.echo(WARNING, err=True)


@app.command("list")
def list_keys(database: DatabaseOpt = None, as_json: JsonOpt = False) -> None:
    """List keys (id, display prefix, limits, state); never the keys themselves.

    Example: modelrouter keys list --json
    """
    keys = _open(database)
    try:
        found = keys.list()
    finally:
        keys.close()
    if as_json:
        print_json([key.to_dict() for key in found])
        return
    rows = []
    for key in found:
        state = ("revoked" if key.revoked_at else "expired" if not key.active() else "active")
        rows.append([key.id, key.name, key.prefix + "…", state,
                     "" if key.budget_usd is None else f"${key.budget_usd}/{key.period}",
                     key.rpm, key.tpm, ",".join(key.models) or "*",
                     key.expires_at.isoformat() if key.expires_at else ""])
    print_table("virtual keys", ["id", "name", "prefix", "state", "budget", "rpm", "tpm",
                                 "models", "expires"], rows)


@app.command("revoke")
def revoke(key_id: KeyIdArg, database: DatabaseOpt = None) -> None:
    """Revoke a key: it fails auth at once here, within 5 s on running gateways.

    Example: modelrouter keys revoke k3f9a2c1b7d4e
    """
    keys = _open(database)
    try:
        done = keys.revoke(key_id)
    finally:
        keys.close()
    if not done:
        fail(f"no active key {key_id!r}")
    typer.echo(f"revoked {key_id}")


@app.command("rotate")
def rotate(key_id: KeyIdArg, database: DatabaseOpt = None, as_json: JsonOpt = False) -> None:
    """Replace a key's secret (same id, budget and limits); the old key stops working.

    Example: modelrouter keys rotate k3f9a2c1b7d4e
    """
    keys = _open(database)
    try:
        plain = keys.rotate(key_id)
    except KeyError:
        fail(f"no active key {key_id!r}")
    finally:
        keys.close()
    if as_json:
        print_json({"id": key_id, "key": plain, "warning": WARNING})
        return
    typer.echo(f"key id: {key_id}")
    typer.echo(f"key:    {plain}")
    typer.echo(WARNING, err=True)
