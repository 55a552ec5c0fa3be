"""`modelrouter catalog` commands: import models and prices from public data, validate a catalog."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelrouter.cli._common import JSON_HELP, print_json, print_table

if TYPE_CHECKING:
    from modelrouter.catalog.importers import ImportPlan, PriceChange, WriteSummary

app = typer.Typer(
    no_args_is_help=True,
    help=(
        "Build and check catalog directories (models/<provider>/*.yaml + pricing/*.yaml).\n\n"
        "Example: modelrouter catalog import litellm prices.json --out ./catalog --dry-run"
    ),
)


@app.command("import")
def import_(
    source: Annotated[
        str, typer.Argument(metavar="SOURCE", help="litellm, models-dev or openrouter.")
    ],
    location: Annotated[
        str,
        typer.Argument(
            metavar="FILE_OR_URL",
            help="The source's JSON: a file, or an http(s) URL to download.",
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Catalog directory to create, or to update with a price version dated today.",
        ),
    ],
    providers: Annotated[
        list[str] | None,
        typer.Option(
            "--provider", metavar="P", help="Import only this provider (repeatable), e.g. google."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would change; write nothing.")
    ] = False,
    timeout_s: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds to wait when downloading a URL.")
    ] = 30.0,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Import chat models and their prices from LiteLLM, models.dev or OpenRouter.

    Reports new models, prices that differ from those in DIR (old → new, % change), a summary.

    Without --dry-run: a model file per new model, and a pricing version dated today.

    Existing model files are never rewritten; a non-empty DIR that is no catalog is refused.

    Example: modelrouter catalog import litellm prices.json --out ./catalog --dry-run
    """
    from modelrouter.catalog.importers import (
        Baseline,
        check_source,
        check_target,
        import_source,
        load_baseline,
        plan_import,
        today_utc,
        write_catalog,
    )
    from modelrouter.catalog.loader import Catalog

    check_source(source)
    today = today_utc()
    existing = check_target(out)
    result = import_source(
        source, location, providers=providers or (), today=today, timeout_s=timeout_s
    )
    baseline = load_baseline(out) if existing else Baseline()
    plan = plan_import(result, baseline, today)
    summary = None
    if not dry_run:
        summary = write_catalog(plan, baseline, out, label=result.source, today=today)
        Catalog.load(out)  # what was written must load; an error here is a bug worth a report
    if as_json:
        body = plan.to_dict()
        body.update(
            source=source,
            label=result.source,
            compared_with=str(out) if existing else None,
            dry_run=dry_run,
            written=None if summary is None else summary.to_dict(),
        )
        print_json(body)
        return
    _print_report(plan, out, existing=existing, summary=summary)


def _print_report(
    plan: ImportPlan, out: Path, *, existing: bool, summary: WriteSummary | None
) -> None:
    if existing:
        typer.echo(f"Compared with the catalog in {out}.")
    else:
        typer.echo(f"{out} holds no catalog yet: every imported model is new.")
    if plan.added:
        typer.echo(f"\nNew models ({len(plan.added)}):")
        for model in plan.added:
            typer.echo(f"  + {model.model_id}")
    if plan.changed:
        typer.echo("")
        print_table(
            f"Changed prices, USD per million tokens ({len(plan.changed_models)} models)",
            ["model", "field", "old $/m", "new $/m", "change"],
            [(c.model, c.field, _money(c.old), _money(c.new), _change(c)) for c in plan.changed],
        )
    skipped = sum(plan.skipped.values())
    reasons = ", ".join(
        f"{reason} {count:,}"
        for reason, count in sorted(plan.skipped.items(), key=lambda item: -item[1])
    )
    typer.echo(
        f"\n{len(plan.added):,} new, {len(plan.changed_models):,} with changed prices, "
        f"{plan.unchanged:,} unchanged; skipped {skipped:,}" + (f" ({reasons})" if reasons else "")
    )
    if summary is None:
        typer.echo("Dry run: nothing written.")
    else:
        typer.echo(
            f"Wrote {summary.model_files:,} model files and {summary.pricing_files:,} pricing "
            f"files to {summary.directory} (prices effective {summary.effective_date})."
        )


def _money(value: object) -> str:
    return "—" if value is None else str(value)


def _change(change: PriceChange) -> str:
    if change.old is None:
        return "new"
    if change.new is None:
        return "removed"
    pct = change.change_pct
    return "—" if pct is None else f"{pct:+}%"


@app.command("validate")
def validate(
    directory: Annotated[
        Path | None,
        typer.Argument(
            metavar="DIR",
            help="Catalog directory (default: $MODELROUTER_CATALOG_DIR or the bundled catalog).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Check that every model and pricing file of a catalog is valid.

    An invalid file is an error naming the file and the field (exit 1).

    Findings that do not stop loading, such as a model without a price, are warnings (exit 0).

    Example: modelrouter catalog validate ./catalog
    """
    from modelrouter.catalog.loader import Catalog, default_catalog_dir

    root = directory or default_catalog_dir()
    catalog = Catalog.load(root)
    priced = sum(1 for spec in catalog if catalog.prices.price(spec.pricing_ref) is not None)
    issues = catalog.check()
    if as_json:
        print_json(
            {
                "ok": True,
                "directory": str(root),
                "models": len(catalog),
                "priced": priced,
                "warnings": [{"model": i.model, "message": i.message} for i in issues],
            }
        )
        return
    typer.echo(f"OK: {len(catalog)} models, {priced} priced ({root})")
    for issue in issues:
        typer.echo(f"warning: {issue.model}: {issue.message}")
