"""The cache key of a request, and whether a request may be cached at all.

The key is the SHA-256 of canonical JSON (sorted keys, no whitespace, NFC strings, numbers
written one way) over the target, the messages and only the parameters that change the answer.
Request ids, API keys, timeouts and the stream flag are left out, so a streamed and a
non-streamed copy of one request share a key. A parameter we do not know is kept: a needless
miss costs a call, a wrong hit returns someone else's answer. Output-shaping parameters
include max_tokens, temperature, top_p, stop, tools, tool_choice, response_format, seed, n and
the vendor params in ``extra``.
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

KEY_VERSION = 1

# Parameters that never change what the model says.
IGNORED_PARAMS = frozenset({
    "request_id", "key", "api_key", "timeout", "timeout_s", "timeout_ms", "timeouts",
    "connect_timeout_ms", "first_token_timeout_ms", "stream", "stream_options", "user",
    "metadata", "max_cost_usd", "validators",
})


def cache_key(*, target: str, messages: Sequence[Mapping[str, Any]], params: Mapping[str, Any]
              ) -> str:
    """The hex SHA-256 naming this request in the cache.

    ``target`` is a canonical model id (``openai:gpt-5``) or ``tier:<name>``; ``params`` are the
    request options as the router will send them (effective values, tier defaults applied).
    """
    document = {
        "v": KEY_VERSION,
        "target": target,
        "messages": list(messages),
        "params": output_params(params),
    }
    text = json.dumps(
        _canonical(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def output_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters that go into the key: unset (None or empty) and ignored ones removed."""
    kept: dict[str, Any] = {}
    for name, value in params.items():
        if name in IGNORED_PARAMS or _unset(value):
            continue
        if name == "extra":
            extra = {k: v for k, v in dict(value).items()
                     if k not in IGNORED_PARAMS and not _unset(v)}
            if extra:
                kept[name] = extra
            continue
        kept[name] = value
    return kept


def cacheable(params: Mapping[str, Any], *, nondeterministic_ok: bool = False) -> bool:
    """Whether an answer to a request with ``params`` may be stored and reused.

    Non-deterministic requests are not cached: ``n`` > 1, or sampling (``temperature`` > 0, or
    unset, which means the provider's default of about 1) without a ``seed``. A namespace with
    ``cache_nondeterministic=True`` passes ``nondeterministic_ok`` and caches them anyway.
    ``seed`` and ``n`` may be top-level or in ``extra``.
    """
    if nondeterministic_ok:
        return True
    extra = params.get("extra") or {}
    n = params.get("n", extra.get("n"))
    if n is not None and n > 1:
        return False
    seed = params.get("seed", extra.get("seed"))
    temperature = params.get("temperature")
    sampling = temperature is None or temperature > 0
    return not sampling or seed is not None


def _unset(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (str, bytes)):
        return False
    return isinstance(value, (Mapping, list, tuple)) and len(value) == 0


def _canonical(value: Any) -> Any:
    """One spelling per value: NFC strings, integral numbers as ints, None-valued keys gone."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float, Decimal)):
        return _number(value)
    if isinstance(value, Mapping):
        return {
            _canonical(str(k)): _canonical(v) for k, v in value.items() if v is not None
        }
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    to_dict = getattr(value, "to_dict", None) or getattr(value, "to_openai", None)
    if callable(to_dict):
        return _canonical(to_dict())
    raise TypeError(f"cannot build a cache key from a {type(value).__name__}: {value!r}")


def _number(value: int | float | Decimal) -> int | float:
    if isinstance(value, int):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"cannot build a cache key from {value!r}")
    exact = Decimal(str(value)) if isinstance(value, float) else value
    if not exact.is_finite():
        raise ValueError(f"cannot build a cache key from {value!r}")
    if exact == exact.to_integral_value():
        return int(exact)
    return float(exact)


__all__ = ["IGNORED_PARAMS", "cache_key", "cacheable", "output_params"]
