"""`modelrouter discover`: find today's free OpenRouter models and adopt the best per tier."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelrouter.cli._common import JSON_HELP, fail, print_json, print_table

if TYPE_CHECKING:
    from modelrouter.discovery.free_models import FreeModel
    from modelrouter.discovery.probe import ProbeResult
    from modelrouter.discovery.report import DiscoveryRun


def discover(
    source: Annotated[str | None, typer.Option(
        "--source", help="OpenRouter's model list: a JSON file or an http(s) URL "
        "(default https://openrouter.ai/api/v1/models).")] = None,
    test: Annotated[bool, typer.Option(
        "--test", help="Probe each free model with a tiny request (needs OPENROUTER_API_KEY).")
    ] = False,
    base_url: Annotated[str | None, typer.Option(
        "--base-url", help="OpenAI-compatible endpoint for --test (default OpenRouter's).")
    ] = None,
    concurrency: Annotated[int, typer.Option(
        "--concurrency", min=1, help="Probes in flight at once.")] = 4,
    timeout: Annotated[float, typer.Option(
        "--timeout", min=0.01, help="Seconds each probe may take.")] = 20.0,
    max_age_days: Annotated[int, typer.Option(
        "--max-age-days", min=0, help="Reuse the cached run while younger than this.")] = 30,
    refresh: Annotated[bool, typer.Option(
        "--refresh", help="Ignore the cached run.")] = False,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Write free-models-YYYY-MM-DD.json into this directory.")] = None,
    write_config: Annotated[Path | None, typer.Option(
        "--write-config", help="Write a TOML fragment choosing the best free model per tier.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """List OpenRouter's free models, optionally test each, classify speed and quality, and
    print the config and env lines that adopt the best free model per tier.

    Example: modelrouter discover --source models.json --report ./reports

    Free models come and go: run it monthly from cron, e.g.
    `0 6 1 * * modelrouter discover --test --report ~/reports --write-config ~/free.toml`
    (the config file is replaced atomically, never left half written). A run is cached with
    its date and reused for --max-age-days; --refresh forces a new one.
    """
    from modelrouter.discovery import probe
    from modelrouter.discovery import report as reporting
    from modelrouter.discovery.free_models import DEFAULT_SOURCE

    source = source or DEFAULT_SOURCE
    endpoint = (base_url or probe.DEFAULT_BASE_URL) if test else None
    if test and base_url is None and not os.environ.get(probe.API_KEY_ENV):
        fail(f"--test needs {probe.API_KEY_ENV} (or --base-url for another endpoint)")
    today = datetime.now(UTC).date()
    run = None if refresh else reporting.load_cache(
        source=source, today=today, max_age_days=max_age_days, tested=test, base_url=endpoint)
    if run is None:
        models = _read_free_models(source)
        if not models:
            _nothing_free(source, as_json)
            return
        results = None
        if test:
            assert endpoint is not None
            results = _probe_all(models, endpoint, concurrency, timeout, show=not as_json)
        run = reporting.DiscoveryRun(
            today, source, test,
            tuple(reporting.DiscoveredModel(m, None if results is None else results[m.id])
                  for m in models),
            endpoint)
        reporting.save_cache(run)
    elif not run.models:
        _nothing_free(source, as_json)
        return
    tiers = reporting.choose_tiers(run.models)
    env = reporting.env_lines(tiers)
    written: dict[str, str | None] = {"report": None, "config": None}
    if report is not None:
        written["report"] = str(reporting.write_report(run, report))
    if write_config is not None and tiers:
        written["config"] = str(reporting.write_config(write_config, tiers, run.day))
    missing = _not_in_catalog([m for models in tiers.values() for m in models])
    if as_json:
        body: dict[str, Any] = run.to_dict()
        body.update(from_cache=run.from_cache, tiers=tiers, env=env, not_in_catalog=missing,
                    **written)
        print_json(body)
        return
    _print_human(run, tiers, env, missing, written)


def _read_free_models(source: str) -> list[FreeModel]:
    from modelrouter.discovery.free_models import SourceError, free_models, load_model_list

    try:
        return free_models(load_model_list(source))
    except SourceError as exc:
        fail(str(exc))


def _nothing_free(source: str, as_json: bool) -> None:
    if as_json:
        print_json({"source": source, "count": 0, "models": [], "tiers": {}, "env": []})
    else:
        typer.echo(f"No free models in {source}: nothing to adopt.")


def _probe_all(models: list[FreeModel], base_url: str, concurrency: int, timeout_s: float,
               *, show: bool) -> dict[str, ProbeResult]:
    import asyncio

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from modelrouter.discovery.probe import API_KEY_ENV, probe_models

    console = Console(stderr=True)
    progress = Progress(TextColumn("probing free models"), BarColumn(), MofNCompleteColumn(),
                        console=console, disable=not show or not console.is_terminal,
                        transient=True)
    with progress:
        task = progress.add_task("probe", total=len(models))
        results = asyncio.run(probe_models(
            [m.id for m in models], base_url=base_url, api_key=os.environ.get(API_KEY_ENV),
            concurrency=concurrency, timeout_s=timeout_s,
            on_done=lambda _: progress.advance(task)))
    return {r.model: r for r in results}


def _not_in_catalog(model_ids: list[str]) -> list[str]:
    from modelrouter.catalog.loader import get_catalog

    catalog = get_catalog()
    return sorted({m for m in model_ids if catalog.find(m) is None})


def _print_human(run: DiscoveryRun, tiers: dict[str, list[str]], env: list[str],
                 missing: list[str], written: dict[str, str | None]) -> None:
    when = f"{run.day.isoformat()}{' (cached)' if run.from_cache else ''}"
    rows = []
    for m in run.models:
        probe = m.probe
        status = "untested" if probe is None else ("ok" if probe.ok else probe.error_class)
        latency = "" if probe is None else f"{probe.latency_s * 1000:.0f}"
        rows.append((m.model.model_id, m.model.context_tokens, m.speed or "unknown",
                     m.quality, status, latency))
    print_table(f"Free models on OpenRouter, {when}",
                ["model", "context", "speed", "quality", "probe", "ms"], rows)
    available = sum(1 for m in run.models if m.available)
    typer.echo(f"{len(run.models)} free, {available} available.")
    if not tiers:
        typer.echo("No free model answered the probe: nothing to adopt.")
        return
    typer.echo("\nTo adopt them, set (free models are tried first):")
    for line in env:
        typer.echo(f"  {line}")
    if missing:
        typer.echo("\nNot in the catalog yet (run `modelrouter catalog import openrouter`): "
                   + ", ".join(missing), err=True)
    for label, path in written.items():
        if path is not None:
            typer.echo(f"Wrote the {label}: {path}")
    sys.stdout.flush()
