"""`modelrouter prices`: a model's price history."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from modelrouter.cli._common import JSON_HELP, print_json, print_table

app = typer.Typer(no_args_is_help=True, help="Prices and their history.")


@app.command("history")
def history(
    model: Annotated[str, typer.Argument(help="Model id, alias or provider identifier.")],
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Every price a model has had, oldest first, with the change against the previous one.

    Example: modelrouter prices history deepseek:deepseek-chat
    """
    from modelrouter.catalog import get_model, get_pricing_history

    spec = get_model(model)
    entries = get_pricing_history(model)
    rows: list[dict[str, Any]] = []
    previous = None
    for entry in entries:
        change = entry.change_from(previous)
        rows.append(
            {
                "effective_date": entry.effective_date.isoformat(),
                "price": None if entry.price is None else entry.price.to_dict(),
                "change_pct": None
                if change is None
                else {k: str(round(v, 2)) for k, v in change.items()},
            }
        )
        previous = entry
    if as_json:
        print_json({"model": spec.model_id, "currency": "USD", "unit": "per_million_tokens",
                    "history": rows})
        return
    table = []
    for row in rows:
        price = row["price"]
        pct: dict[str, str] = row["change_pct"] or {}
        if price is None:
            table.append((row["effective_date"], "retired", "", "", "", ""))
            continue
        table.append(
            (
                row["effective_date"],
                price["input"],
                price["output"],
                price["cache_read"],
                price["cache_write"],
                ", ".join(f"{k} {_signed(v)}%" for k, v in pct.items()),
            )
        )
    print_table(
        f"{spec.model_id} — USD per million tokens",
        ["from", "input $/M", "output $/M", "cache read $/M", "cache write $/M", "change"],
        table,
    )
    if not rows:
        typer.echo(f"{spec.model_id} has no price in the catalog (its cost is 'unknown').")


def _signed(value: str) -> str:
    return value if value.startswith("-") else f"+{value}"
