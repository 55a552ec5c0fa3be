"""Child process for the multi-process Redis budget test.

Usage: python tests/budget_worker.py URL PREFIX SCOPE CYCLES INDEX MODE

Announces itself (INCR {prefix}ready), waits for the go signal (BLPOP {prefix}go), then runs
CYCLES reserve/settle rounds of $0.01. MODE: ``random`` settles a random actual ≤ reserved,
``full`` exactly the reservation, ``overrun`` random but its first settle twice the reservation.
Prints one JSON line: admitted, rejected, settled_nanos.
"""

from __future__ import annotations

import json
import random
import sys
from decimal import Decimal

AMOUNT = Decimal("0.01")


def main(argv: list[str]) -> int:
    import redis

    from modelrouter.errors import BudgetExceededError
    from modelrouter.usage.budgets import open_budget_store, to_nanos

    url, prefix, scope, cycles, index, mode = argv
    control = redis.Redis.from_url(url)
    store = open_budget_store(url, key_prefix=prefix)
    rng = random.Random(int(index))
    control.incr(prefix + "ready")
    if control.blpop([prefix + "go"], timeout=60) is None:
        print(json.dumps({"error": "no go signal"}))
        return 1
    admitted = rejected = settled_nanos = 0
    for cycle in range(int(cycles)):
        try:
            held = store.reserve(["global", scope], AMOUNT, request_id=f"w{index}-{cycle}")
        except BudgetExceededError:
            rejected += 1
            continue
        admitted += 1
        if mode == "full" or (mode == "overrun" and admitted == 1):
            actual = AMOUNT * (2 if mode == "overrun" else 1)
        else:
            actual = Decimal(rng.randint(0, 10_000_000)).scaleb(-9)
        store.settle(held, actual)
        settled_nanos += to_nanos(actual)
    store.close()
    print(json.dumps({"admitted": admitted, "rejected": rejected, "settled_nanos": settled_nanos}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
