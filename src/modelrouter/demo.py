"""The offline demo: fake providers on loopback, the real router, five scenarios.

Nothing leaves the machine and no key is needed: the providers are a ``FakeProvider`` on
127.0.0.1 and the keys are placeholders it accepts.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from modelrouter.config import load_config
from modelrouter.errors import RouterError
from modelrouter.routing.records import AttemptRecord
from modelrouter.routing.router import Router, RouterResult
from modelrouter.routing.validators import valid_json
from modelrouter.testing import FakeProvider, Fault
from modelrouter.usage.ledger import open_ledger, sqlite_url
from modelrouter.usage.summary import UsageSummary, summarize_ledger

FREE = "openrouter:meta-llama/llama-3.3-70b-instruct:free"
FREE_API = "meta-llama/llama-3.3-70b-instruct:free"
FLAKY = "openai:gpt-5-nano"

DEMO_CONFIG = f"""
[router]
max_fallback_attempts = 2

[tiers.fast]
models = ["{FREE}", "{FLAKY}", "google:gemini-2.5-flash-lite"]
timeout_ms = 3000

[tiers.balanced]
models = ["openai:gpt-5-mini", "anthropic:claude-haiku-4-5"]
timeout_ms = 3000

[tiers.advanced]
models = ["anthropic:claude-sonnet-4-5", "openai:gpt-5", "google:gemini-2.5-pro"]
timeout_ms = 3000

[retry]
max_retries = 1
base_delay_ms = 20
max_delay_ms = 100

[breaker]
failure_threshold = 2
window_ms = 60000
cooldown_ms = 1000
"""

PLACEHOLDER_KEYS = {
    "OPENAI_API_KEY": "demo", "ANTHROPIC_API_KEY": "demo", "GEMINI_API_KEY": "demo",
    "OPENROUTER_API_KEY": "demo", "COHERE_API_KEY": "demo",
}


@dataclass
class Scenario:
    title: str
    outcome: str
    explain: list[str] = field(default_factory=list)


@dataclass
class DemoReport:
    scenarios: list[Scenario]
    attempts: list[AttemptRecord]
    summary: UsageSummary | None = None  # the ledger's view, with savings

    @property
    def total_cost(self) -> Decimal:
        return sum((r.cost_usd or Decimal(0) for r in self.attempts), Decimal(0))

    @property
    def free_share(self) -> float:
        done = [r for r in self.attempts if r.outcome == "success"]
        return sum(r.free for r in done) / len(done) if done else 0.0


def _base_urls(fake: FakeProvider) -> dict[str, str]:
    v1 = f"{fake.base_url}/v1"
    return {"openai": v1, "openrouter": v1, "anthropic": fake.base_url,
            "google": fake.base_url, "cohere": fake.base_url}


def _line(result: RouterResult) -> str:
    cost = "unknown" if result.cost is None else f"${result.cost.total:f}"
    return (f"{result.model} answered (tier {result.tier}, fallback depth "
            f"{result.fallback_depth}, {result.usage.total_tokens} tokens, {cost})")


async def run_demo(progress: Callable[[str], None] = lambda _: None) -> DemoReport:
    """Run every scenario against a fresh FakeProvider; returns what happened."""
    scenarios: list[Scenario] = []
    hello = [{"role": "user", "content": "Give me one sentence about routing."}]
    with FakeProvider() as fake, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "modelrouter.toml"
        path.write_text(DEMO_CONFIG, encoding="utf-8")
        config = load_config(path, environ=PLACEHOLDER_KEYS)
        # A real SQLite ledger in a temporary directory: the demo leaves nothing behind.
        ledger = open_ledger(sqlite_url(Path(tmp) / "usage.db"))
        router = Router(config, environ=PLACEHOLDER_KEYS, sink=ledger,
                        base_urls=_base_urls(fake), budgets=None, cache=None, alerts=None)
        try:
            progress("1. free-first selection")
            result = await router.chat(hello, tier="fast")
            scenarios.append(Scenario("Free-first: the tier's free model answers",
                                      _line(result), result.decision.explain()
                                      if result.decision else []))

            progress("2. a 429 that falls back")
            fake.script(FREE_API, [Fault.rate_limit(retry_after=120)])
            result = await router.chat(hello, tier="fast")
            scenarios.append(Scenario(
                "Rate limited: 429 with Retry-After 120 s, longer than the timeout",
                _line(result) + f"; {FREE} cools down for 120 s instead of sleeping"))
            router.live.end_cooldown(FREE)  # lift it so the next scenes can use the model

            progress("3. a breaker opening and recovering")
            fake.always(FREE_API, Fault.server_error(503))
            first = await router.chat(hello, tier="fast")
            breaker = router.live.breakers.get(FREE)
            opened = breaker.state
            skipped = await router.chat(hello, tier="fast")
            dropped = [r.reason for r in (skipped.decision.rejected if skipped.decision else ())
                       if r.model_id == FREE]
            fake.always(FREE_API, None)
            await asyncio.sleep(config.breaker.cooldown_s + 0.1)
            probe = await router.chat(hello, tier="fast")
            scenarios.append(Scenario(
                "Circuit breaker: two 503s open it, the cooldown passes, one probe closes it",
                f"after the failures: {opened} ({first.model} answered); next request: "
                f"{FREE} dropped ({'; '.join(dropped)}); after the cooldown the half-open "
                f"probe succeeded on {probe.model}: breaker {breaker.state}"))

            progress("4. a validator failure that escalates a tier")
            for api in (FREE_API, "gpt-5-nano", "gemini-2.5-flash-lite"):
                fake.configure(api, reply="Sure! Here is some prose, not JSON.")
            fake.configure("gpt-5-mini", reply='{"route": "balanced", "ok": true}')
            result = await router.chat(hello, tier="fast", validators=[valid_json()])
            scenarios.append(Scenario(
                "Quality validator: the fast tier's answer is not JSON, so it escalates",
                _line(result) + f": {result.text}"))

            progress("5. a request skipped for its cost cap")
            cap = Decimal("0.025")
            result = await router.chat(hello, tier="advanced", max_cost_usd=cap)
            dropped = [f"{r.model_id} ({r.reason})"
                       for r in (result.decision.rejected if result.decision else ())]
            scenarios.append(Scenario(
                f"Cost cap ${cap}: models whose worst case exceeds it are skipped",
                _line(result) + "; skipped: " + "; ".join(dropped)))
        except RouterError as exc:  # pragma: no cover - a broken demo should say why
            scenarios.append(Scenario("demo stopped", str(exc)))
        finally:
            await router.aclose()
        attempts = ledger.records()
        summary = summarize_ledger(ledger, "model", config=config)
        ledger.close()
    return DemoReport(scenarios, attempts, summary)


def run_demo_sync(progress: Callable[[str], None] = lambda _: None) -> tuple[DemoReport, float]:
    started = time.perf_counter()
    report = asyncio.run(run_demo(progress))
    return report, time.perf_counter() - started
