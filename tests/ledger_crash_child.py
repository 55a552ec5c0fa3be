"""Child process for the kill -9 ledger tests (run as a script, never collected by pytest).

Usage: ledger_crash_child.py URL COUNT [SCHEMA]

Records COUNT attempts one by one, printing ``RECORDED <i>`` (flushed) after each ``record()``
returns, then ``DONE`` and sleeps until killed. The parent kills it with SIGKILL and checks that
every printed record is in the ledger.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from decimal import Decimal

from modelrouter.catalog.pricing import Usage
from modelrouter.routing.records import AttemptRecord
from modelrouter.usage.ledger import open_ledger


def main(argv: list[str]) -> int:
    url, count = argv[0], int(argv[1])
    schema = argv[2] if len(argv) > 2 else None
    ledger = open_ledger(url, schema=schema)
    print("READY", flush=True)
    for i in range(count):
        ledger.record(AttemptRecord(
            request_id=f"crash-{i}", time=datetime.now(UTC), model="openai:gpt-5-mini",
            provider="openai", tier="balanced", outcome="success", fallback_depth=0,
            free=False, usage=Usage(input_tokens=100 + i, output_tokens=10),
            cost_usd=Decimal("0.0000001") * (i + 1), latency_s=0.25,
        ))
        sys.stdout.write(f"RECORDED {i}\n")
        sys.stdout.flush()
    print("DONE", flush=True)
    while True:
        time.sleep(60)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
