"""`modelrouter select` and `modelrouter chat`."""

from __future__ import annotations

import sys
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer

from modelrouter.cli._common import JSON_HELP, fail, print_json

TierOpt = Annotated[str | None, typer.Option("--tier", "-t",
                    help="fast, balanced, advanced, expert (or budget, fallback, premium).")]
TaskOpt = Annotated[str | None, typer.Option("--task", help="e.g. classification, summarization.")]
ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="A model id or alias.")]
RequireOpt = Annotated[list[str] | None, typer.Option(
    "--require", "-r", help="fast, quality or a capability; repeat for several.")]
ConfigOpt = Annotated[str | None, typer.Option("--config", help="A modelrouter.toml file.")]


def _money(value: str | None, option: str) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value.lstrip("$"))
    except InvalidOperation:
        fail(f"{option} {value!r} is not an amount in USD, e.g. 0.05", code=2)
    if amount < 0:
        fail(f"{option} must not be negative", code=2)
    return amount


def _one_target(tier: str | None, task: str | None, model: str | None) -> None:
    if sum(x is not None for x in (tier, task, model)) > 1:
        fail("give at most one of --tier, --task and --model", code=2)


def _router(config: str | None) -> Any:
    from modelrouter.config import load_config
    from modelrouter.routing.router import Router

    return Router(load_config(config))


def select(
    tier: TierOpt = None,
    task: TaskOpt = None,
    model: ModelOpt = None,
    require: RequireOpt = None,
    context: Annotated[int, typer.Option("--context", min=0,
                       help="Prompt size in tokens the model must accept.")] = 0,
    max_cost: Annotated[str | None, typer.Option("--max-cost",
                        help="Per-request cost cap in USD.")] = None,
    explain: Annotated[bool, typer.Option("--explain",
                       help="Show every candidate and why it was kept or dropped.")] = False,
    prompt: Annotated[str | None, typer.Option(
        "--prompt", help="The prompt to score for --tier auto (and to size --context).")] = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Which model a request would go to, without calling it. With --tier auto the prompt
    is scored by the complexity router, and --explain shows the score and its features.

    Providers without an API key are skipped, as the router would; when no provider has a
    key, the plan is shown as if each had one.

    Example: modelrouter select --tier auto --prompt "Prove that sqrt(2) is irrational" --explain
    """
    _one_target(tier, task, model)
    router = _router(config)
    messages = [{"role": "user", "content": prompt}] if prompt else []
    if (tier or model or "").startswith("auto") and not prompt:
        fail("--tier auto needs --prompt: the complexity router scores the prompt", code=2)
    target = router.resolve(tier=tier, task=task, model=model, require=require or (),
                            messages=messages)
    if prompt and not context:
        from modelrouter.routing.tokens import count_message_tokens

        context = count_message_tokens(messages)
    cap = _money(max_cost, "--max-cost")
    decision = router.plan(target, prompt_tokens=context, max_cost_usd=cap)
    note = None
    if decision.chosen is None and decision.rejected and all(
        r.code == "provider_unavailable" for r in decision.rejected
    ):
        from modelrouter.routing.selection import select as pure_select

        note = "no provider has an API key: showing the plan as if each had one"
        settings = router.config.tier(target.tier)
        decision = pure_select(
            target.models, catalog=router.catalog, tier=target.tier, require=target.require,
            context_tokens=context, max_output_tokens=settings.max_tokens,
            max_cost_usd=cap if cap is not None else router.config.router.max_cost_per_request_usd,
            prefer_free=router.config.router.prefer_free, order_by_cost=target.pinned is None,
        )
    if as_json:
        body = decision.to_dict()
        body["note"] = note
        body["auto"] = target.auto.to_dict() if target.auto else None
        print_json(body)
    else:
        if decision.chosen is not None:
            typer.echo(decision.chosen.model_id)
        if note:
            typer.echo(f"({note})", err=True)
        if explain or decision.chosen is None:
            for line in (target.auto.explain() if target.auto and explain else []):
                typer.echo(f"  {line}")
            for line in decision.explain():
                typer.echo(f"  {line}")
    if decision.chosen is None:
        raise typer.Exit(1)


def chat(
    prompt: Annotated[str, typer.Argument(help="The user message; '-' reads standard input.")],
    tier: TierOpt = None,
    task: TaskOpt = None,
    model: ModelOpt = None,
    require: RequireOpt = None,
    system: Annotated[str | None, typer.Option("--system", help="A system message.")] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", min=1)] = None,
    max_cost: Annotated[str | None, typer.Option("--max-cost", help="Cost cap in USD.")] = None,
    stream: Annotated[bool, typer.Option("--stream", help="Print tokens as they arrive.")] = False,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Send one prompt through the router; print the reply and a one-line receipt.

    Example: modelrouter chat "Summarise RFC 9110 in one line" --tier fast
    """
    import asyncio

    _one_target(tier, task, model)
    text = sys.stdin.read() if prompt == "-" else prompt
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": text}]
    cap = _money(max_cost, "--max-cost")
    router = _router(config)
    options: dict[str, Any] = {"tier": tier, "task": task, "model": model,
                               "require": require or (), "max_tokens": max_tokens,
                               "max_cost_usd": cap}

    async def run() -> dict[str, Any]:
        try:
            if stream and not as_json:
                handle = router.stream(messages, **options)
                async for chunk in handle:
                    sys.stdout.write(chunk.text)
                    sys.stdout.flush()
                sys.stdout.write("\n")
                return {"model": handle.model, "usage": handle.usage, "cost": handle.cost,
                        "fallback_depth": handle.fallback_depth, "text": handle.text,
                        "tier": handle.tier, "request_id": handle.request_id,
                        "latency_s": sum(a.latency_s for a in handle.attempts)}
            result = await router.chat(messages, **options)
            return {"model": result.model, "usage": result.usage, "cost": result.cost,
                    "fallback_depth": result.fallback_depth, "text": result.text,
                    "tier": result.tier, "request_id": result.request_id,
                    "latency_s": result.latency_s}
        finally:
            await router.aclose()

    out = asyncio.run(run())
    usage, cost = out["usage"], out["cost"]
    if as_json:
        from modelrouter.catalog.pricing import format_usd

        print_json({
            "model": out["model"], "tier": out["tier"], "request_id": out["request_id"],
            "text": out["text"], "fallback_depth": out["fallback_depth"],
            "usage": None if usage is None else {
                "input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
                "cached_input_tokens": usage.cached_input_tokens,
                "reasoning_tokens": usage.reasoning_tokens},
            "cost_usd": None if cost is None else format_usd(cost.total),
            "latency_ms": round(out["latency_s"] * 1000, 1),
        })
        return
    if not stream:
        typer.echo(out["text"])
    tokens = "?" if usage is None else f"{usage.input_tokens}+{usage.output_tokens}"
    price = "unknown" if cost is None else f"${cost.total:f}"
    typer.echo(
        f"— {out['model']} · {tokens} tokens · {price} · {out['latency_s'] * 1000:.0f} ms · "
        f"{out['fallback_depth']} fallbacks", err=True)
