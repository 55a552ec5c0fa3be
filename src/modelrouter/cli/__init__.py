"""The ``modelrouter`` command: one module per command group.

Command modules import their heavy dependencies inside the commands, so ``--help`` stays fast.
"""

from __future__ import annotations

import sys

import typer

from modelrouter.cli import (
    bands,
    budgets,
    cache,
    catalog,
    config,
    cost,
    demo,
    discover,
    fake_provider,
    insights,
    keys,
    models,
    prices,
    route,
    routing,
    serve,
    usage,
)
from modelrouter.cli._common import run_app

app = typer.Typer(
    name="modelrouter",
    help=(
        "Pick the cheapest model that fits, and know exactly what it costs.\n\n"
        "Example: modelrouter demo"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("demo")(demo.demo)
app.command("select")(routing.select)
app.command("chat")(routing.chat)
app.command("serve")(serve.serve)
app.add_typer(models.app, name="models")
app.command("cost")(cost.cost)
app.add_typer(prices.app, name="prices")
app.add_typer(bands.app, name="bands")
app.add_typer(catalog.app, name="catalog")
app.add_typer(config.app, name="config")
app.add_typer(cache.app, name="cache")
app.add_typer(budgets.app, name="budgets")
app.add_typer(keys.app, name="keys")
app.add_typer(route.app, name="route")
app.command("discover")(discover.discover)
app.command("usage")(usage.usage)
app.command("alerts")(insights.alerts)
app.command("recommend")(insights.recommend)
app.command("fake-provider")(fake_provider.fake_provider)


@app.command("version")
def version() -> None:
    """Print the modelrouter version.

    Example: modelrouter version
    """
    from modelrouter import __version__

    typer.echo(__version__)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: never a traceback, one clear line and a non-zero exit."""
    return run_app(app, sys.argv[1:] if argv is None else argv)
