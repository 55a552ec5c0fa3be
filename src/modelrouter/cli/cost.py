"""`modelrouter cost`: the exact, itemised cost of a usage on a model."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from modelrouter.cli._common import JSON_HELP, fail, print_json, print_table


def parse_day(value: str | None, option: str = "--on") -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date; use YYYY-MM-DD, e.g. 2025-10-01", code=2)


def cost(
    model: Annotated[str, typer.Argument(help="Model id, alias or provider identifier.")],
    input_tokens: Annotated[
        int, typer.Option("--input", min=0, help="Prompt tokens, cached ones included.")
    ] = 0,
    output_tokens: Annotated[
        int, typer.Option("--output", min=0, help="Completion tokens, reasoning included.")
    ] = 0,
    cached_input: Annotated[
        int, typer.Option("--cached-input", min=0, help="Prompt tokens read from the cache.")
    ] = 0,
    cache_write: Annotated[
        int, typer.Option("--cache-write", min=0, help="Prompt tokens written to the cache.")
    ] = 0,
    reasoning: Annotated[
        int, typer.Option("--reasoning", min=0, help="Output tokens spent on reasoning.")
    ] = 0,
    on: Annotated[
        str | None, typer.Option("--on", help="Price on this date (YYYY-MM-DD); default today.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Exact cost of a request, itemised, from the versioned price data.

    Token counts follow OpenAI's usage: --input counts every prompt token (cached and
    cache-write ones included), --output counts every completion token (reasoning included).

    Example: modelrouter cost claude-sonnet-4-5 --input 1000000 --output 1000000
    """
    from modelrouter.catalog import calculate_cost
    from modelrouter.catalog.pricing import Usage, format_usd

    day = parse_day(on)
    usage = Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_tokens=cached_input,
        cache_write_tokens=cache_write,
        reasoning_tokens=reasoning,
    )
    result = calculate_cost(model, usage, on=day)
    if as_json:
        body = result.to_dict()
        body["usage"] = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cached_input_tokens": cached_input,
            "cache_write_tokens": cache_write,
            "reasoning_tokens": reasoning,
        }
        print_json(body)
        return
    uncached = input_tokens - cached_input - cache_write
    rows = [
        ("input", f"{uncached:,}", format_usd(result.input)),
        ("cached read", f"{cached_input:,}", format_usd(result.cached_read)),
        ("cache write", f"{cache_write:,}", format_usd(result.cache_write)),
        ("output", f"{output_tokens - reasoning:,}", format_usd(result.output)),
        ("reasoning", f"{reasoning:,}", format_usd(result.reasoning)),
        ("total", f"{input_tokens + output_tokens:,}", format_usd(result.total)),
    ]
    tier = (
        f", long-context rate above {result.tier_above_input_tokens:,} input tokens"
        if result.tier_above_input_tokens
        else ""
    )
    title = f"{result.model} — prices from {result.price_date.isoformat()}{tier}"
    print_table(title, ["item", "tokens", "USD"], rows)
