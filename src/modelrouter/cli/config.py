"""`modelrouter config`: check a modelrouter.toml and show the effective configuration."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelrouter.cli._common import JSON_HELP, print_json, print_table

if TYPE_CHECKING:
    from modelrouter.config.schema import (
        ProviderSettings,
        RateLimits,
        RouterConfig,
        ValidatorSettings,
    )

app = typer.Typer(
    no_args_is_help=True,
    help=(
        "Check modelrouter.toml and show the effective configuration.\n\n"
        "Example: modelrouter config show --json"
    ),
)

DEFAULTS_LABEL = "(no config file: built-in defaults)"


@app.command("check")
def check(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="The file to check (default: MODELROUTER_CONFIG, ./modelrouter.toml, "
            "then the user config dir).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Validate a config file and the environment overrides against the catalog.

    Prints one OK line, or one error line naming the file and the dotted key, and exits 1.

    Example: modelrouter config check modelrouter.toml
    """
    from modelrouter.config import load_config

    environ = dict(os.environ)
    config = load_config(file, environ=environ)
    enabled = [p for p in config.providers.values() if p.enabled]
    with_keys = sum(1 for p in enabled if p.needs_key and p.resolve_api_key(environ))
    typer.echo(
        f"OK: {config.file or DEFAULTS_LABEL}: {len(config.tiers)} tiers, "
        f"{len(config.model_ids)} models, {len(enabled)} providers ({with_keys} with keys)"
    )


@app.command("show")
def show(
    config_file: Annotated[
        Path | None,
        typer.Option("--config", help="Use this file instead of searching for one."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Print every effective setting and where it came from: default, file or env:VAR.

    Secrets are never printed: literal keys are masked, env:: references say (set)/(not set).

    Example: modelrouter config show --config modelrouter.toml --json
    """
    from modelrouter.config import load_config

    environ = dict(os.environ)
    config = load_config(config_file, environ=environ)
    data = config_to_dict(config, environ)
    if as_json:
        print_json({"file": config.file, "config": data, "sources": dict(config.sources)})
        return
    rows = [
        (key, _cell(value), config.sources.get(key, "default"))
        for key, value in flatten(data, config.sources)
    ]
    title = f"Configuration: {config.file or DEFAULTS_LABEL}"
    print_table(title, ["key", "value", "source"], rows)


def flatten(
    data: Any, sources: Mapping[str, str], prefix: tuple[str, ...] = ()
) -> list[tuple[str, Any]]:
    """(dotted key, value) pairs; a key with a recorded source is a leaf, whatever its value."""
    from modelrouter.config.schema import dotted

    key = dotted(*prefix) if prefix else ""
    if prefix and (key in sources or not isinstance(data, dict) or not data):
        return [(key, data)]
    out: list[tuple[str, Any]] = []
    for name, value in data.items():
        out += flatten(value, sources, (*prefix, name))
    return out


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def mask_secret(secret: str) -> str:
    """``sk-proj-abcd…wxyz`` → ``sk-…wxyz``; short secrets are hidden entirely."""
    return f"{secret[:3]}…{secret[-4:]}" if len(secret) >= 12 else "****"


def describe_key(provider: ProviderSettings, environ: Mapping[str, str]) -> str | None:
    """``env::VAR (set)``, ``env::VAR (not set)``, a masked literal, or None (no key needed)."""
    if provider.api_key is None:
        return None
    if provider.key_env is None:
        return mask_secret(provider.api_key)
    return f"{provider.api_key} ({'set' if environ.get(provider.key_env) else 'not set'})"


def config_to_dict(config: RouterConfig, environ: Mapping[str, str]) -> dict[str, Any]:
    """A JSON-ready view in the file's own terms (ms, usd); secrets masked."""
    r = config.router
    return {
        "router": {
            "default_tier": r.default_tier,
            "max_tier": r.max_tier,
            "prefer_free": r.prefer_free,
            "max_fallback_attempts": r.max_fallback_attempts,
            "max_cost_per_request_usd": _str_or_none(r.max_cost_per_request_usd),
            "monthly_budget_usd": _str_or_none(r.monthly_budget_usd),
            "provider": r.provider,
        },
        "providers": {
            name: {
                "api_key": describe_key(p, environ),
                "base_url": p.base_url,
                "adapter": p.adapter,
                "headers": dict(p.headers),
                "enabled": p.enabled,
            }
            for name, p in config.providers.items()
        },
        "tiers": {
            name: {
                "models": list(t.models),
                "max_tokens": t.max_tokens,
                "temperature": t.temperature,
                "connect_timeout_ms": _ms(t.timeouts.connect_s),
                "first_token_timeout_ms": _ms(t.timeouts.first_token_s),
                "timeout_ms": _ms(t.timeouts.total_s),
            }
            for name, t in config.tiers.items()
        },
        "tasks": {
            name: {"tier": t.tier, "require": list(t.require)} for name, t in config.tasks.items()
        },
        "fallbacks": {model: list(chain) for model, chain in config.fallbacks.items()},
        "limits": {
            "free": _limits_dict(config.limits.free),
            "models": {m: _limits_dict(lim) for m, lim in config.limits.models.items()},
        },
        "breaker": {
            "failure_threshold": config.breaker.failure_threshold,
            "window_ms": _ms(config.breaker.window_s),
            "cooldown_ms": _ms(config.breaker.cooldown_s),
        },
        "retry": {
            "max_retries": config.retry.max_retries,
            "base_delay_ms": _ms(config.retry.base_delay_s),
            "max_delay_ms": _ms(config.retry.max_delay_s),
        },
        "validators": [_validator_dict(v) for v in config.validators],
        "cache": {"enabled": config.cache.enabled, "ttl_s": config.cache.ttl_s},
        "budget": {
            "default_usd": _str_or_none(config.budget.default_usd),
            "alert_threshold": str(config.budget.alert_threshold),
        },
        "registry": {"url": config.registry_url},
    }


def _str_or_none(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _limits_dict(limits: RateLimits | None) -> dict[str, int | None] | None:
    return None if limits is None else {"rpm": limits.rpm, "tpm": limits.tpm}


def _validator_dict(v: ValidatorSettings) -> dict[str, Any]:
    out: dict[str, Any] = {"name": v.name, "kind": v.kind, "tiers": list(v.tiers)}
    if v.json_schema is not None:
        out["schema"] = dict(v.json_schema)
    for key in ("pattern", "min_chars", "max_chars"):
        value = getattr(v, key)
        if value is not None:
            out[key] = value
    return out
