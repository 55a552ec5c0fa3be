"""`modelrouter models`: list and show catalog models."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from modelrouter.cli._common import JSON_HELP, print_json, print_table

app = typer.Typer(no_args_is_help=True, help="Browse the model catalog.")


@app.command("list")
def list_models(
    provider: Annotated[
        str | None, typer.Option("--provider", "-p", help="Only this provider.")
    ] = None,
    capability: Annotated[
        list[str] | None,
        typer.Option("--capability", "-c", help="Required capability; repeat for several."),
    ] = None,
    free: Annotated[bool, typer.Option("--free", help="Only free models.")] = False,
    band: Annotated[
        str | None, typer.Option("--band", help="Only this context band (see `bands show`).")
    ] = None,
    cost_tier: Annotated[
        str | None, typer.Option("--cost-tier", help="Only this cost tier (free, economy, …).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """List catalog models, cheapest first, with context window and prices.

    Example: modelrouter models list --provider openai --capability function_calling
    """
    from modelrouter.catalog import find_models, get_catalog
    from modelrouter.cli._bands_view import assignments_by_model, check_band_names

    catalog = get_catalog()
    if provider is not None and not any(s.provider == provider for s in catalog):
        from modelrouter.cli._common import fail

        known = ", ".join(sorted({s.provider for s in catalog}))
        fail(f"unknown provider {provider!r}; known: {known}", code=2)
    specs = find_models(required=capability or (), provider=provider, free=True if free else None)
    check_band_names(band, cost_tier)
    bands = assignments_by_model(catalog)
    rows: list[dict[str, Any]] = []
    for spec in specs:
        assignment = bands.get(spec.model_id)
        context_band = assignment.context_band if assignment else None
        tier = assignment.cost_tier if assignment else None
        if band is not None and context_band != band:
            continue
        if cost_tier is not None and tier != cost_tier:
            continue
        price = catalog.prices.price(spec.pricing_ref)
        rows.append(
            {
                "id": spec.model_id,
                "name": spec.metadata.name,
                "provider": spec.provider,
                "context_window": spec.metadata.context_window_input,
                "free": spec.free,
                "input_per_mtok": None if price is None else str(price.input),
                "output_per_mtok": None if price is None else str(price.output),
                "blended_per_mtok": None if price is None else str(price.blended.normalize()),
                "context_band": context_band,
                "cost_tier": tier,
                "speed_class": spec.speed_class,
                "quality_class": spec.quality_class,
                "capabilities": sorted(c.value for c in spec.effective_capabilities()),
            }
        )
    rows.sort(key=lambda r: (r["blended_per_mtok"] is None, _num(r["blended_per_mtok"]), r["id"]))
    if as_json:
        print_json(rows)
        return
    print_table(
        f"{len(rows)} models",
        ["id", "context", "input $/M", "output $/M", "band", "cost tier", "speed", "quality"],
        [
            (
                r["id"],
                f"{r['context_window']:,}",
                _money(r["input_per_mtok"]),
                _money(r["output_per_mtok"]),
                r["context_band"] or "",
                r["cost_tier"] or "",
                r["speed_class"] or "",
                r["quality_class"] or "",
            )
            for r in rows
        ],
    )


@app.command("show")
def show(
    model: Annotated[str, typer.Argument(help="Model id, alias or provider identifier.")],
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Everything the catalog knows about one model, with its current price.

    Example: modelrouter models show gpt-5
    """
    from modelrouter.catalog import get_catalog

    catalog = get_catalog()
    spec = catalog.get(model)
    price = catalog.prices.price(spec.pricing_ref)
    body = spec.model_dump(mode="json")
    body["effective_capabilities"] = sorted(c.value for c in spec.effective_capabilities())
    body["price"] = None if price is None else price.to_dict()
    if as_json:
        print_json(body)
        return
    meta = spec.metadata
    rows = [
        ("id", spec.model_id),
        ("name", meta.name),
        ("provider", spec.provider),
        ("api identifier", meta.api_identifier),
        ("aliases", ", ".join(meta.aliases)),
        ("context window",
         f"{meta.context_window_input:,} in / {meta.context_window_output:,} out"),
        ("knowledge cutoff", meta.knowledge_cutoff or ""),
        ("status", spec.status),
        ("free", "yes" if spec.free else "no"),
        ("speed / quality", f"{spec.speed_class or '?'} / {spec.quality_class or '?'}"),
        ("capabilities", ", ".join(body["effective_capabilities"])),
        ("price (USD/M)", _price_line(price)),
        ("recommended for", ", ".join(spec.optimization.recommended_for)),
        ("pitfalls", "; ".join(spec.optimization.pitfalls)),
        ("sources", _sources(spec)),
    ]
    print_table(spec.model_id, ["field", "value"], rows)


def _price_line(price: Any) -> str:
    if price is None:
        return "unknown"
    line = (
        f"input {price.input}, output {price.output}, cache read {price.cache_read}, "
        f"cache write {price.cache_write} (from {price.effective_date.isoformat()})"
    )
    for tier in price.tiers:
        line += f"; above {tier.above_input_tokens:,} input tokens: {tier.input}/{tier.output}"
    return line


def _sources(spec: Any) -> str:
    if spec.provenance is None:
        return ""
    return f"specs {spec.provenance.specs}, pricing {spec.provenance.pricing}"


def _num(value: str | None) -> float:
    return float(value) if value is not None else 0.0


def _money(value: str | None) -> str:
    return "unknown" if value is None else value
