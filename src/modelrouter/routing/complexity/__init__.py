"""The complexity router behind ``model="auto"``: score a request, map the score to a tier.

* ``score(request)``: how much a prompt needs the strong model, in [0, 1] (``model``);
* ``route(messages, threshold=None, target_quality=0.95)``: the tier, with the score, the
  threshold and the features that drove it (``thresholds``);
* ``parse_auto("auto:0.4")``: the threshold of an ``auto:<t>`` model name;
* ``cascade.simulate``: the cheap-first, escalate-on-judge option, on benchmark rows.

The weights are package data written by ``tools/train_router.py``; they load on first use.
"""

from __future__ import annotations

from modelrouter.routing.complexity.model import score
from modelrouter.routing.complexity.thresholds import (
    AutoDecision,
    parse_auto,
    parse_auto_spec,
    route,
)

__all__ = ["AutoDecision", "parse_auto", "parse_auto_spec", "route", "score"]
