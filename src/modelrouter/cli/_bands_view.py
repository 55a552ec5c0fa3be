"""Band columns for `models list`: in-memory assignments, nothing written."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelrouter.cli._common import fail

if TYPE_CHECKING:
    from modelrouter.catalog.bands import BandAssignment
    from modelrouter.catalog.loader import Catalog


def assignments_by_model(catalog: Catalog) -> dict[str, BandAssignment]:
    from modelrouter.catalog.band_store import preview_bands

    return {a.model_id: a for a in preview_bands(catalog).assignments}


def check_band_names(band: str | None, cost_tier: str | None) -> None:
    """A --band or --cost-tier that is not in the bands config is a usage error."""
    if band is None and cost_tier is None:
        return
    from modelrouter.catalog.band_store import load_bands_config

    config, _ = load_bands_config()
    if band is not None and band not in config.context_band_names:
        fail(f"unknown context band {band!r}; known: {', '.join(config.context_band_names)}", 2)
    if cost_tier is not None and cost_tier not in config.cost_tier_names:
        fail(f"unknown cost tier {cost_tier!r}; known: {', '.join(config.cost_tier_names)}", 2)
