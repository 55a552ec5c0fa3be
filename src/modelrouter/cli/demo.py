"""`modelrouter demo`: the router end to end, offline, against fake providers on loopback."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import typer

from modelrouter.cli._common import JSON_HELP, print_json, print_table


def demo(as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
    """Walk through free-first selection, a 429 fallback, a circuit breaker, a validator
    escalation and a cost cap, with no keys and no network: fake providers run on 127.0.0.1.

    Example: modelrouter demo
    """
    from modelrouter.catalog.pricing import format_usd
    from modelrouter.demo import run_demo_sync

    report, seconds = run_demo_sync(
        progress=(lambda _: None) if as_json else (lambda s: typer.echo(f"… {s}", err=True)))
    if as_json:
        print_json({
            "scenarios": [{"title": s.title, "outcome": s.outcome} for s in report.scenarios],
            "attempts": [a.to_dict() for a in report.attempts],
            "total_cost_usd": format_usd(report.total_cost),
            "summary": report.summary.to_dicts() if report.summary else [],
            "free_share": round(report.free_share, 3),
            "seconds": round(seconds, 2),
        })
        return
    for number, scenario in enumerate(report.scenarios, 1):
        typer.echo(f"\n{number}. {scenario.title}\n   {scenario.outcome}")
    typer.echo("")
    print_table(
        "Every attempt (what the usage ledger receives)",
        ["model", "tier", "outcome", "error", "tokens", "cost", "depth", "ms"],
        [
            (a.model, a.tier, a.outcome, a.error_class or "",
             "" if a.usage is None else f"{a.usage.input_tokens}+{a.usage.output_tokens}",
             "unknown" if a.cost_usd is None else format_usd(a.cost_usd),
             a.fallback_depth, f"{a.latency_s * 1000:.1f}")
            for a in report.attempts
        ],
    )
    summary = report.summary
    if summary is not None:
        rows = [*summary.groups, summary.total]
        print_table(
            "Usage summary from the ledger (savings: against the tier's cheapest paid model)",
            ["model", "requests", "attempts", "tokens", "cost", "saved", "free share",
             "p95 ms"],
            [(g.group, g.requests, g.attempts, g.tokens, format_usd(g.cost_usd),
              format_usd(g.savings_usd), "" if g.free_share is None else f"{g.free_share:.0%}",
              "" if g.latency_p95_ms is None else f"{g.latency_p95_ms:.1f}")
             for g in rows],
        )
    saved = report.summary.total.savings_usd if report.summary else Decimal(0)
    typer.echo(f"Total ${format_usd(report.total_cost)}, saved ${format_usd(saved)}; "
               f"{report.free_share:.0%} of answers came from free models; {seconds:.1f} s, "
               "all on 127.0.0.1.")
