"""`modelrouter usage`: what was spent, on what, how fast, and what free models saved."""

from __future__ import annotations

import csv
import sys
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelrouter.cli._common import JSON_HELP, fail, print_json, print_table

if TYPE_CHECKING:
    from modelrouter.usage.summary import UsageGroup, UsageSummary

BY_CHOICES = ("day", "month", "model", "provider", "tier", "key", "task")
MICRO = Decimal("0.000001")
CSV_COLUMNS = (
    "group", "requests", "attempts", "successes", "success_rate", "input_tokens",
    "output_tokens", "cached_tokens", "reasoning_tokens", "cost_usd", "latency_p50_ms",
    "latency_p95_ms", "latency_p99_ms", "ttft_p50_ms", "ttft_p95_ms", "ttft_p99_ms",
    "fallback_rate", "cache_hit_rate", "free_share", "savings_usd", "is_total",
)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-01", code=2)


def usage(
    by: Annotated[
        str, typer.Option("--by", help=f"Group by: {', '.join(BY_CHOICES)}.")
    ] = "day",
    since: Annotated[
        str | None, typer.Option("--since", help="From this UTC date on (YYYY-MM-DD).")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Up to, not including, this UTC date (YYYY-MM-DD)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (header + rows).")] = False,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="Ledger URL (sqlite:///path or postgresql://…); default "
            "MODELROUTER_DATABASE_URL, else usage.db in the user data dir.",
        ),
    ] = None,
) -> None:
    """Usage from the ledger: requests, tokens, cost, latency, fallbacks and savings.

    Savings are what the same tokens would have cost on the cheapest paid model of the
    same tier, at today's prices, minus what they cost.

    Example: modelrouter usage --by model --since 2026-11-01
    """
    if by not in BY_CHOICES:
        fail(f"--by {by!r}: choose one of {', '.join(BY_CHOICES)}", code=2)
    if as_json and as_csv:
        fail("--json and --csv: choose one", code=2)
    start, end = _day(since, "--since"), _day(until, "--until")
    if start is not None and end is not None and end <= start:
        fail(f"--until {until} must be after --since {since}", code=2)

    summary = _summarize(database, by, start, end)
    if as_json:
        print_json(summary.to_dicts() if not summary.empty else [])
    elif as_csv:
        _print_csv(summary)
    elif summary.empty:
        typer.echo(f"No usage recorded{_window(since, until)} yet.")
    else:
        _print_human(summary, since, until)


def _summarize(database: str | None, by: str, start: date | None, end: date | None
               ) -> UsageSummary:
    from modelrouter.usage.ledger import open_ledger
    from modelrouter.usage.summary import summarize_ledger

    try:
        ledger = open_ledger(database)
    except (OSError, ImportError) as exc:
        fail(f"cannot open the usage ledger: {exc}")
    except Exception as exc:
        if type(exc).__module__.startswith(("psycopg", "sqlite3")):
            fail(f"cannot open the usage ledger: {str(exc).strip().splitlines()[0]}")
        raise
    with ledger:
        return summarize_ledger(ledger, by, start, end)  # type: ignore[arg-type]


def _window(since: str | None, until: str | None) -> str:
    if since and until:
        return f" from {since} to {until}"
    if since:
        return f" since {since}"
    if until:
        return f" before {until}"
    return ""


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def _usd(amount: Decimal) -> str:
    # The table rounds for people (to a millionth of a dollar); --json and --csv stay exact.
    from modelrouter.catalog.pricing import format_usd

    return format_usd(amount.quantize(MICRO))


def _print_human(summary: UsageSummary, since: str | None, until: str | None) -> None:
    columns = ["group", "requests", "success", "tokens", "cost", "p50 ms", "p95 ms",
               "p99 ms", "ttft p50", "fallback", "cache hit", "free", "saved"]

    def row(group: UsageGroup) -> list[Any]:
        return [
            "TOTAL" if group.is_total else group.group, f"{group.requests:,}",
            _pct(group.success_rate), f"{group.tokens:,}", _usd(group.cost_usd),
            _ms(group.latency_p50_ms), _ms(group.latency_p95_ms), _ms(group.latency_p99_ms),
            _ms(group.ttft_p50_ms), _pct(group.fallback_rate), _pct(group.cache_hit_rate),
            _pct(group.free_share), _usd(group.savings_usd),
        ]

    rows = [row(g) for g in summary.groups]
    rows.append(row(summary.total))
    print_table(f"Usage by {summary.by}{_window(since, until)}", columns, rows)


def _print_csv(summary: UsageSummary) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    if summary.empty:
        return
    for data in summary.to_dicts():
        writer.writerow(["" if data[c] is None else data[c] for c in CSV_COLUMNS])
