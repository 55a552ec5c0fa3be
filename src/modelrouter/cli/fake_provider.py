"""`modelrouter fake-provider`: run the test fake provider in the foreground."""

from __future__ import annotations

import threading
from typing import Annotated

import typer


def fake_provider(
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port to listen on; 0 picks a free one.")
    ] = 0,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Serve a deterministic fake of OpenAI, Anthropic, Gemini and Cohere until Ctrl-C.

    Point a client's base URL at it. Script faults with POST /_fake/script,
    read what it received with GET /_fake/requests, start over with POST /_fake/reset.

    Example: modelrouter fake-provider --port 8999
    """
    from modelrouter.testing import FakeProvider

    fake = FakeProvider(host=host, port=port, log_requests=True)
    try:
        fake.start()
    except OSError as exc:
        from modelrouter.cli._common import fail

        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    typer.echo(f"Fake provider listening on {fake.base_url}")
    for wire, url in fake.endpoints().items():
        typer.echo(f"  {wire:<10} {url}")
    typer.echo("Press Ctrl-C to stop.", err=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    typer.run(fake_provider)
