"""A live `modelrouter serve` subprocess on loopback in front of a FakeProvider."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from modelrouter.testing import FakeProvider

MASTER = "sk-master-test"
GATEWAY_CONFIG = """
[tiers.fast]
models = ["openrouter:meta-llama/llama-3.3-70b-instruct:free", "openai:gpt-5-nano"]
[tiers.balanced]
models = ["openai:gpt-5-mini", "anthropic:claude-haiku-4-5"]
[tiers.advanced]
models = ["anthropic:claude-sonnet-4-5", "openai:gpt-5"]
[retry]
max_retries = 0
"""
KEYS = {"OPENAI_API_KEY": "sk-up", "ANTHROPIC_API_KEY": "sk-ant-up",
        "OPENROUTER_API_KEY": "or-up", "GEMINI_API_KEY": "g-up", "COHERE_API_KEY": "co-up"}


@dataclass
class Live:
    url: str
    home: Path
    fake: FakeProvider
    process: subprocess.Popen[bytes]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_gateway(fake: FakeProvider, home: Path, *, workers: int = 1,
                 extra_env: dict[str, str] | None = None, config: str = GATEWAY_CONFIG
                 ) -> Iterator[Live]:
    home.mkdir(parents=True, exist_ok=True)
    (home / "modelrouter.toml").write_text(config, encoding="utf-8")
    port = free_port()
    v1 = f"{fake.base_url}/v1"
    env = {**os.environ, **KEYS, "MODELROUTER_HOME": str(home),
           "MODELROUTER_MASTER_KEY": MASTER, **(extra_env or {})}
    cmd = [sys.executable, "-m", "modelrouter", "serve", "--config", str(home / "modelrouter.toml"),
           "--port", str(port), "--workers", str(workers),
           "--upstream", f"openai={v1}", "--upstream", f"openrouter={v1}",
           "--upstream", f"anthropic={fake.base_url}", "--upstream", f"google={fake.base_url}",
           "--upstream", f"cohere={fake.base_url}"]
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                out = process.stdout.read().decode() if process.stdout else ""
                raise RuntimeError(f"gateway did not start: {out[-2000:]}")
            time.sleep(0.05)
        yield Live(url, home, fake, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
