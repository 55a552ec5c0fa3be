"""`modelrouter bands` commands: show, apply and override context bands and cost tiers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from modelrouter.cli._common import JSON_HELP, fail, print_json, print_table

if TYPE_CHECKING:
    from modelrouter.catalog.band_store import BandsApplyResult
    from modelrouter.catalog.bands import BandAssignment, BandsConfig

app = typer.Typer(
    no_args_is_help=True,
    help=(
        "Context-window bands and cost tiers: which band each model is in, and models.csv.\n\n"
        "Example: modelrouter bands show"
    ),
)

CONFIG_HELP = "Bands config JSON to use instead of the bundled bands_config.json."
CSV_HELP = (
    "Where models.csv is (default: <user data dir>/bands/models.csv); "
    "its state and audit log are kept beside it."
)


@app.command("show")
def show(
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP, show_default=False),
    csv_file: Path | None = typer.Option(None, "--csv", help=CSV_HELP, show_default=False),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show the bands and each model's context band and cost tier (computed now, writes nothing).

    Example: modelrouter bands show --json
    """
    from modelrouter.catalog.band_store import preview_bands

    result = preview_bands(config_path=config, csv_path=csv_file)
    if as_json:
        print_json(
            {
                "config": result.config.to_json_dict(),
                "config_hash": result.config_hash,
                "assignments": [a.to_dict() for a in result.assignments],
            }
        )
        return
    _print_bands(result.config)
    _print_assignments(result.assignments)


@app.command("apply")
def apply(
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP, show_default=False),
    csv_file: Path | None = typer.Option(None, "--csv", help=CSV_HELP, show_default=False),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the moves it would make; write nothing."
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Reassign every model if the bands or the catalog changed, and rewrite models.csv.

    Writes nothing when neither changed since the last apply.

    Each move is appended to bands_audit.jsonl beside the CSV.

    Example: modelrouter bands apply --dry-run
    """
    from modelrouter.catalog.band_store import apply_bands
    from modelrouter.catalog.bands import describe_move

    result = apply_bands(config_path=config, csv_path=csv_file, dry_run=dry_run)
    if as_json:
        print_json(_result_json(result, dry_run=dry_run))
        return
    if result.up_to_date:
        typer.echo(
            f"Bands are up to date (config sha256 {result.config_hash[:12]}); "
            f"nothing to do: {result.files.csv}"
        )
        return
    for dropped in result.dropped_overrides:
        verb = "Would drop" if dry_run else "Dropped"
        typer.echo(f"{verb} override {dropped.override.describe()} of {dropped.model_id}: "
                   f"{dropped.why}")
    for move in result.moves:
        typer.echo(describe_move(move, would=dry_run))
    if dry_run:
        typer.echo(f"Dry run: {_count(len(result.moves), 'move')}; nothing written.")
        return
    if result.moves:
        for line in result.summary():
            typer.echo(line)
    typer.echo(
        f"Wrote {result.files.csv} ({_count(len(result.assignments), 'model')}, "
        f"{_count(len(result.moves), 'move')})"
    )


@app.command("override")
def override(
    model: str = typer.Argument(..., help="Model id, alias or provider identifier."),
    context_band: str | None = typer.Option(
        None, "--context-band", help="Pin the model to this context band.", show_default=False
    ),
    cost_tier: str | None = typer.Option(
        None, "--cost-tier", help="Pin the model to this cost tier.", show_default=False
    ),
    clear: bool = typer.Option(False, "--clear", help="Remove the model's pins."),
    config: Path | None = typer.Option(None, "--config", help=CONFIG_HELP, show_default=False),
    csv_file: Path | None = typer.Option(None, "--csv", help=CSV_HELP, show_default=False),
) -> None:
    """Pin a model's context band or cost tier; pins survive every later reassignment.

    Pins are kept in bands_state.json and shown in the override column of models.csv.

    Example: modelrouter bands override openai:gpt-5 --context-band large
    """
    from modelrouter.catalog.band_store import set_override
    from modelrouter.catalog.bands import describe_move
    from modelrouter.catalog.loader import get_catalog

    if clear and (context_band is not None or cost_tier is not None):
        fail("--clear removes the pins; do not combine it with --context-band/--cost-tier", 2)
    if not clear and context_band is None and cost_tier is None:
        fail("give --context-band and/or --cost-tier, or --clear", 2)
    result = set_override(
        model,
        context_band=context_band,
        cost_tier=cost_tier,
        clear=clear,
        config_path=config,
        csv_path=csv_file,
    )
    for move in result.moves:
        typer.echo(describe_move(move))
    model_id = get_catalog().get(model).model_id
    assignment = result.assignment(model_id)
    if assignment is not None:
        pins = assignment.override.describe() if assignment.override else "none"
        typer.echo(
            f"{model_id}: context band {assignment.context_band}, cost tier "
            f"{assignment.cost_tier} (override: {pins}); wrote {result.files.csv}"
        )


# --------------------------------------------------------------------------- output


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _print_bands(config: BandsConfig) -> None:
    print_table(
        "Context-window bands (input tokens)",
        ["band", "from", "to"],
        [
            (
                b.name,
                f"{b.min_tokens:,}",
                "no limit" if b.max_tokens is None else f"{b.max_tokens:,}",
            )
            for b in config.context_window_bands
        ],
    )
    print_table(
        "Cost tiers (blended $ per million tokens)",
        ["tier", "from", "to"],
        [
            (
                b.name,
                f"${b.min_usd_per_mtok}",
                "no limit" if b.max_usd_per_mtok is None else f"${b.max_usd_per_mtok}",
            )
            for b in config.cost_tier_bands
        ],
    )


def _print_assignments(assignments: list[BandAssignment]) -> None:
    from modelrouter.catalog.pricing import format_usd

    # The override column only when some model has one: narrow terminals truncate wide tables.
    with_overrides = any(a.override for a in assignments)
    columns = ["model", "context", "blended $/m", "context band", "cost tier"]
    rows = []
    for a in assignments:
        row = [
            a.model_id,
            f"{a.context_window:,}",
            "unknown" if a.blended is None else format_usd(a.blended),
            a.context_band,
            a.cost_tier,
        ]
        if with_overrides:
            row.append(a.override.describe() if a.override else "")
        rows.append(row)
    if with_overrides:
        columns.append("override")
    print_table(f"Assignments ({_count(len(assignments), 'model')})", columns, rows)


def _result_json(result: BandsApplyResult, *, dry_run: bool) -> dict[str, Any]:
    return {
        "csv": str(result.files.csv),
        "config_hash": result.config_hash,
        "up_to_date": result.up_to_date,
        "written": result.written,
        "dry_run": dry_run,
        "moves": [m.to_dict() for m in result.moves],
        "dropped_overrides": [
            {"model": d.model_id, "override": d.override.to_dict(), "why": d.why}
            for d in result.dropped_overrides
        ],
    }
