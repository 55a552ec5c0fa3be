"""The seed's selection helpers, kept: ``select_model`` and ``get_model_for_task``.

Pure planning over the effective configuration (file, env and defaults): they name the model
the router would try first, free-first, without calling anything. Providers without keys are
skipped only when ``only_available`` is set, so the answer is stable on a machine with no keys.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from modelrouter.catalog.loader import Catalog, get_catalog
from modelrouter.config import RouterConfig, load_config
from modelrouter.errors import AllProvidersFailedError, RouterError
from modelrouter.routing.selection import Decision, Requirements, select


def _decide(
    tier: str, require: list[str], config: RouterConfig | None, catalog: Catalog | None,
    only_available: bool, environ: Mapping[str, str] | None,
) -> Decision:
    env = os.environ if environ is None else environ
    cfg = config or load_config(environ=env)
    cat = catalog or get_catalog()
    settings = cfg.tier(tier)
    unavailable: dict[str, str] = {}
    if only_available:
        for name, provider in cfg.providers.items():
            if provider.needs_key and provider.resolve_api_key(env) is None:
                unavailable[name] = f"no API key: set {provider.key_env or 'its api_key'}"
    only = cfg.router.provider
    return select(
        settings.models, catalog=cat, tier=settings.name, require=Requirements.parse(require),
        max_output_tokens=settings.max_tokens, prefer_free=cfg.router.prefer_free,
        unavailable_providers=unavailable, allowed_providers=frozenset({only}) if only else None,
    )


def select_model(
    tier: str, require_fast: bool = False, require_quality: bool = False, *,
    config: RouterConfig | None = None, catalog: Catalog | None = None,
    only_available: bool = False, environ: Mapping[str, str] | None = None,
) -> str:
    """The model id the router would try first for ``tier`` (aliases like ``premium`` ok)."""
    require = (["fast"] if require_fast else []) + (["quality"] if require_quality else [])
    decision = _decide(tier, require, config, catalog, only_available, environ)
    return _chosen(decision)


def get_model_for_task(
    task: str, *, config: RouterConfig | None = None, catalog: Catalog | None = None,
    only_available: bool = False, environ: Mapping[str, str] | None = None,
) -> str:
    """The model for a task: classification/diarization → premium + quality, summarization
    and entity extraction → budget + fast, anything else → fallback (all configurable)."""
    env = os.environ if environ is None else environ
    cfg = config or load_config(environ=env)
    rule = cfg.task(task)
    decision = _decide(rule.tier, list(rule.require), cfg, catalog, only_available, env)
    return _chosen(decision)


def _chosen(decision: Decision) -> str:
    if decision.chosen is None:
        raise AllProvidersFailedError(
            [(r.model_id, RouterError(r.reason)) for r in decision.rejected],
            summary=f"no model in tier {decision.tier!r} fits",
        )
    return decision.chosen.model_id
