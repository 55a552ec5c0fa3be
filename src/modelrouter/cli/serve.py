"""`modelrouter serve`: the OpenAI- and Anthropic-compatible gateway."""

from __future__ import annotations

from typing import Annotated

import typer

from modelrouter.cli._common import fail


def serve(
    config: Annotated[str | None, typer.Option("--config", help="A modelrouter.toml file.")] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535)] = 4000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64,
                       help="Worker processes sharing the port.")] = 1,
    master_key: Annotated[str | None, typer.Option(
        "--master-key", help="Admin key (default MODELROUTER_MASTER_KEY).")] = None,
    no_auth: Annotated[bool, typer.Option(
        "--no-auth", help="Accept requests without a key (local experiments only).")] = False,
    upstream: Annotated[list[str] | None, typer.Option(
        "--upstream", help="PROVIDER=BASE_URL override, e.g. openai=http://127.0.0.1:8999/v1; "
        "repeat for several.")] = None,
) -> None:
    """Serve /v1/chat/completions, /v1/messages, /v1/models, /health, /ready, /metrics, the
    registry API and the admin API. Clients change only their base_url.

    Example: MODELROUTER_MASTER_KEY=sk-admin modelrouter serve --port 4000 --workers 2
    """
    import os

    from modelrouter.config import load_config
    from modelrouter.gateway.serve import MASTER_KEY_ENV, ServeOptions, run

    load_config(config)  # a bad config is one clear line here, not a crash in every worker
    if not no_auth and not (master_key or os.environ.get(MASTER_KEY_ENV)):
        from modelrouter.gateway.keys import KeyStore

        with KeyStore() as keys:
            if not keys.list():
                fail("no way to authenticate: set MODELROUTER_MASTER_KEY (or --master-key), "
                     "create keys with `modelrouter keys create`, or pass --no-auth", code=2)
    base_urls: dict[str, str] = {}
    for pair in upstream or ():
        provider, sep, url = pair.partition("=")
        if not sep or not url.startswith(("http://", "https://")):
            fail(f"--upstream {pair!r}: expected PROVIDER=http(s)://…", code=2)
        base_urls[provider] = url
    run(ServeOptions(config=config, host=host, port=port, workers=workers,
                     master_key=master_key, auth_required=not no_auth, base_urls=base_urls))
