"""A router wired to a FakeProvider on loopback, with a controllable clock and sleep."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from modelrouter.config import load_config
from modelrouter.routing.records import MemorySink
from modelrouter.routing.router import Router
from modelrouter.testing import FakeProvider

KEYS = {
    "OPENAI_API_KEY": "sk-test", "ANTHROPIC_API_KEY": "sk-ant-test", "GEMINI_API_KEY": "g-test",
    "COHERE_API_KEY": "co-test", "OPENROUTER_API_KEY": "or-test", "GROQ_API_KEY": "gq-test",
    "DEEPSEEK_API_KEY": "ds-test", "MISTRAL_API_KEY": "mi-test",
}

CONFIG = """
[router]
max_fallback_attempts = 2

[tiers.fast]
models = ["openrouter:meta-llama/llama-3.3-70b-instruct:free", "openai:gpt-5-nano",
          "google:gemini-2.5-flash-lite", "cohere:command-r7b-12-2024"]
timeout_ms = 2000
connect_timeout_ms = 1000
first_token_timeout_ms = 1000

[tiers.balanced]
models = ["anthropic:claude-haiku-4-5", "openai:gpt-5-mini"]
timeout_ms = 2000

[tiers.advanced]
models = ["anthropic:claude-sonnet-4-5", "openai:gpt-5"]
timeout_ms = 2000

[retry]
max_retries = 1
base_delay_ms = 10
max_delay_ms = 50

[breaker]
failure_threshold = 3
window_ms = 60000
cooldown_ms = 30000
"""


@dataclass
class FakeClock:
    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Rig:
    fake: FakeProvider
    router: Router
    sink: MemorySink
    clock: FakeClock


def base_urls(fake: FakeProvider) -> dict[str, str]:
    v1 = f"{fake.base_url}/v1"
    return {"openai": v1, "openrouter": v1, "groq": v1, "deepseek": v1, "mistral": v1,
            "anthropic": fake.base_url, "google": fake.base_url, "cohere": fake.base_url}


def make_router(fake: FakeProvider, tmp_path: Path, *, config: str = CONFIG,
                keys: dict[str, str] | None = None, real_clock: bool = False) -> Rig:
    path = tmp_path / "modelrouter.toml"
    path.write_text(config, encoding="utf-8")
    environ = dict(KEYS if keys is None else keys)
    sink = MemorySink()
    clock = FakeClock()
    kwargs = {} if real_clock else {"clock": clock, "sleep": clock.sleep}
    router = Router(load_config(path, environ=environ), environ=environ, sink=sink,
                    base_urls=base_urls(fake), rand=lambda: 0.5, **kwargs)  # type: ignore[arg-type]
    return Rig(fake, router, sink, clock)
