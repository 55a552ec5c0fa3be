"""Budgets: who may spend how much per UTC calendar window, and the pure rules that decide.

A budget is ``(scope, period, limit_usd)``. Scopes are ``global``, ``key:<id>``, ``team:<id>``
and ``tag:<name>``; ``key:*`` is the default applied to every key without a budget of its own
(each key still gets its own counters). Periods are UTC calendar windows: ``day`` (window id
``2026-11-25``), ``month`` (``2026-11``) and ``total`` (``total``). One budget per scope.

Spending goes through reserve-then-settle (see ``BudgetStore``): a request is admitted iff, in
every budget that applies, ``spent + reserved_active + amount <= limit``. Reservations expire
after ``ttl_s`` so a dead process stops holding budget. ``settle`` adds the actual cost even when
it exceeds the reservation (the provider already charged), so the guarantee is::

    spent <= limit + sum(actual - reserved for each settled request that overran)

which with honest maximum-cost reservations is ``spent <= limit``.

Money is exact: stores keep integer nanodollars (1 USD = 10**9); an amount finer than a
nanodollar is rounded *up* when reserved or spent, so spend is never under-counted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING, Literal, Protocol, get_args

if TYPE_CHECKING:
    from modelrouter.config.schema import RouterConfig

__all__ = [
    "DEFAULT_KEY_SCOPE",
    "MAX_LIMIT_USD",
    "NANOS_PER_USD",
    "PERIODS",
    "Budget",
    "BudgetStatus",
    "BudgetStore",
    "Period",
    "Reservation",
    "budgets_from_config",
    "from_nanos",
    "make_status",
    "open_budget_store",
    "parse_limit",
    "parse_scope",
    "percent_used",
    "resolve_budget",
    "seconds_until_reset",
    "to_nanos",
    "utc_now",
    "window_end",
    "window_id",
]

Period = Literal["day", "month", "total"]
PERIODS: tuple[Period, ...] = get_args(Period)
Source = Literal["config", "cli"]
NANOS_PER_USD = 10**9
# Redis Lua numbers are doubles: integers stay exact up to 2**53 nanodollars (~$9.007M).
MAX_LIMIT_USD = Decimal("9000000")
DEFAULT_KEY_SCOPE = "key:*"
REDIS_URL_ENV = "MODELROUTER_REDIS_URL"
KEY_PREFIX_ENV = "MODELROUTER_BUDGET_KEY_PREFIX"

_SCOPE = re.compile(r"^(?:global|(?:key|team|tag):[A-Za-z0-9_.@/+=-]{1,128})$")


# --------------------------------------------------------------------------- values


def parse_scope(text: str) -> str:
    """A canonical scope (``global``, ``key:<id>``, ``team:<id>``, ``tag:<name>``, ``key:*``)."""
    scope = text.strip()
    kind, sep, rest = scope.partition(":")
    if sep:
        scope = f"{kind.lower()}:{rest}"
    elif scope.lower() == "global":
        scope = "global"
    if scope == DEFAULT_KEY_SCOPE or _SCOPE.match(scope):
        return scope
    raise ValueError(
        f"invalid budget scope {text!r}: use global, key:<id>, team:<id>, tag:<name> "
        "(letters, digits and _ . @ / + = -) or key:* for the default per-key budget"
    )


def to_nanos(amount: Decimal) -> int:
    """USD → integer nanodollars, rounding a sub-nanodollar remainder up."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValueError(f"expected a finite Decimal amount, got {amount!r}")
    if amount < 0:
        raise ValueError(f"expected an amount >= 0, got {amount}")
    return int(amount.scaleb(9).to_integral_value(rounding=ROUND_CEILING))


def from_nanos(nanos: int) -> Decimal:
    """Integer nanodollars → exact USD, without trailing zeros (``0.5``, ``12``)."""
    whole, rest = divmod(nanos, NANOS_PER_USD)
    return Decimal(whole) if rest == 0 else Decimal(nanos).scaleb(-9).normalize()


def parse_limit(value: object) -> Decimal:
    """A budget limit: >= 0, at most $9,000,000, whole nanodollars (no rounding of limits)."""
    from modelrouter.config.schema import parse_decimal

    amount = parse_decimal(value)
    if amount > MAX_LIMIT_USD:
        raise ValueError(f"a budget limit is at most ${MAX_LIMIT_USD}, got {amount}")
    if amount.scaleb(9) != amount.scaleb(9).to_integral_value():
        raise ValueError(f"a budget limit has at most 9 decimal places, got {amount}")
    return amount


@dataclass(frozen=True, slots=True)
class Budget:
    """A spending limit for one scope and period; ``source`` says who defined it."""

    scope: str
    period: Period
    limit_usd: Decimal
    source: Source = "cli"

    def __post_init__(self) -> None:
        if parse_scope(self.scope) != self.scope:
            raise ValueError(f"budget scope {self.scope!r} is not canonical")
        if self.period not in PERIODS:
            raise ValueError(f"unknown budget period {self.period!r}: use day, month or total")
        parse_limit(self.limit_usd)
        if self.source not in ("config", "cli"):
            raise ValueError(f"unknown budget source {self.source!r}")


@dataclass(frozen=True, slots=True)
class Reservation:
    """What ``reserve`` held: pass it back to ``settle`` or ``release`` exactly once.

    ``windows`` lists the ``(scope, window_id)`` counters held; empty when no budget applied.
    """

    id: str
    request_id: str
    amount: Decimal
    windows: tuple[tuple[str, str], ...]
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """One scope's budget in its current window."""

    scope: str
    budget_scope: str  # the definition that applies: the scope itself or ``key:*``
    period: Period
    window: str
    limit: Decimal
    spent: Decimal
    reserved: Decimal
    resets_at: datetime | None
    remaining: Decimal = field(init=False)
    percent_used: Decimal = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "remaining", max(self.limit - self.spent - self.reserved, _ZERO))
        object.__setattr__(self, "percent_used", percent_used(self.spent, self.limit))

    @property
    def used_fraction(self) -> Decimal:
        """Spent over limit (0.85 = 85 %), what alerts compare with their threshold."""
        if self.limit == 0:
            return Decimal(1 if self.spent > 0 else 0)
        return self.spent / self.limit

    def to_dict(self) -> dict[str, object]:
        return {
            "scope": self.scope,
            "budget_scope": self.budget_scope,
            "period": self.period,
            "window": self.window,
            "limit_usd": self.limit,
            "spent_usd": self.spent,
            "reserved_usd": self.reserved,
            "remaining_usd": self.remaining,
            "percent_used": self.percent_used,
            "resets_at": self.resets_at,
        }


_ZERO = Decimal(0)


def percent_used(spent: Decimal, limit: Decimal) -> Decimal:
    """Spent as a percentage of the limit, two decimals; a zero limit is 0 % or 100 %."""
    if limit == 0:
        return Decimal(100 if spent > 0 else 0).quantize(Decimal("0.01"))
    return (spent * 100 / limit).quantize(Decimal("0.01"))


# --------------------------------------------------------------------------- windows


def utc_now() -> datetime:
    return datetime.now(UTC)


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("budget windows need a timezone-aware datetime")
    return now.astimezone(UTC)


def window_id(period: Period, now: datetime) -> str:
    """The UTC calendar window containing ``now``: ``2026-11-25``, ``2026-11`` or ``total``."""
    moment = _utc(now)
    if period == "day":
        return moment.strftime("%Y-%m-%d")
    if period == "month":
        return moment.strftime("%Y-%m")
    return "total"


def window_end(period: Period, now: datetime) -> datetime | None:
    """When the window containing ``now`` rolls over (None for ``total``)."""
    moment = _utc(now)
    if period == "day":
        return datetime.combine(moment.date() + timedelta(days=1), datetime.min.time(), UTC)
    if period == "month":
        first = date(moment.year + moment.month // 12, moment.month % 12 + 1, 1)
        return datetime.combine(first, datetime.min.time(), UTC)
    return None


def seconds_until_reset(period: Period, now: datetime) -> float | None:
    """Seconds until the window rolls over: the ``retry_after`` of an exhausted budget."""
    end = window_end(period, now)
    return None if end is None else (end - _utc(now)).total_seconds()


def resolve_budget(scope: str, budgets: dict[str, Budget]) -> Budget | None:
    """The budget that applies to ``scope``: its own, or ``key:*`` for a key without one."""
    own = budgets.get(scope)
    if own is not None or scope == DEFAULT_KEY_SCOPE:
        return own
    if scope.startswith("key:"):
        return budgets.get(DEFAULT_KEY_SCOPE)
    return None


def unique_scopes(scopes: Sequence[str]) -> list[str]:
    """Canonical scopes in the given order, without duplicates (``key:*`` is not a request's)."""
    seen: dict[str, None] = {}
    for raw in scopes:
        scope = parse_scope(raw)
        if scope == DEFAULT_KEY_SCOPE:
            raise ValueError("key:* is a default, not a scope a request can spend in")
        seen.setdefault(scope, None)
    return list(seen)


def make_status(
    scope: str, budget: Budget, window: str, spent_nanos: int, reserved_nanos: int,
    now: datetime,
) -> BudgetStatus:
    """A ``BudgetStatus`` from a store's counters."""
    return BudgetStatus(
        scope=scope, budget_scope=budget.scope, period=budget.period, window=window,
        limit=budget.limit_usd, spent=from_nanos(spent_nanos),
        reserved=from_nanos(reserved_nanos), resets_at=window_end(budget.period, now),
    )


def budgets_from_config(config: RouterConfig) -> list[Budget]:
    """Budgets the config and env define: ``AI_MONTHLY_BUDGET`` → global per month,
    ``DEFAULT_BUDGET`` → ``key:*`` per month (each key without its own budget)."""
    found: list[Budget] = []
    monthly = config.router.monthly_budget_usd
    if monthly is not None:
        found.append(Budget("global", "month", parse_limit(monthly), source="config"))
    per_key = config.budget.default_usd
    if per_key is not None:
        found.append(Budget(DEFAULT_KEY_SCOPE, "month", parse_limit(per_key), source="config"))
    return found


# --------------------------------------------------------------------------- the store


class BudgetStore(Protocol):
    """Budget definitions and counters; SQLite (one host) or Redis (shared by replicas).

    Thread-safe. Every call is one short transaction (SQLite) or one round trip (Redis).
    """

    def set_budget(self, budget: Budget) -> None:
        """Create or replace the budget of ``budget.scope``."""
        ...

    def remove_budget(self, scope: str) -> bool:
        """Delete a scope's budget definition (counters stay); True if there was one."""
        ...

    def budgets(self) -> list[Budget]:
        """Every definition, sorted by scope."""
        ...

    def sync_config(self, budgets: Sequence[Budget]) -> None:
        """Write the config's budgets (source ``config``) unless the CLI set that scope.

        Never deletes: a replica started with an older config must not drop a limit; remove
        a budget with ``remove_budget`` / ``modelrouter budgets remove``."""
        ...

    def reserve(
        self, scopes: Sequence[str], amount: Decimal, *, request_id: str, ttl_s: float = 300
    ) -> Reservation:
        """Hold ``amount`` in every budget that applies to ``scopes``, or in none and raise
        ``BudgetExceededError`` for the first scope that would overflow."""
        ...

    def settle(self, reservation: Reservation, actual: Decimal) -> None:
        """Add ``actual`` to spent (even above the reservation) and drop the reservation."""
        ...

    def release(self, reservation: Reservation) -> None:
        """Drop the reservation without spending."""
        ...

    def status(self, scope: str) -> BudgetStatus | None:
        """The scope's budget in its current window; None if no budget applies."""
        ...

    def remaining(self, scopes: Sequence[str]) -> Decimal | None:
        """The smallest remaining amount across ``scopes``; None if no budget applies."""
        ...

    def close(self) -> None: ...


Clock = Callable[[], datetime]


def open_budget_store(
    url: str | None = None, *, key_prefix: str | None = None, clock: Clock = utc_now
) -> BudgetStore:
    """The store for ``url``: ``redis://``/``rediss://``/``unix://`` → Redis, ``sqlite:///PATH``
    or a file path → SQLite. Without a url: ``MODELROUTER_REDIS_URL`` if set, else
    ``user_data_dir()/budgets.db``. ``key_prefix`` (or ``MODELROUTER_BUDGET_KEY_PREFIX``)
    namespaces the Redis keys."""
    target = url or os.environ.get(REDIS_URL_ENV) or None
    if target is not None and target.startswith(("redis://", "rediss://", "unix://")):
        from modelrouter.usage.budget_redis import RedisBudgetStore

        prefix = key_prefix or os.environ.get(KEY_PREFIX_ENV) or None
        return RedisBudgetStore.from_url(target, key_prefix=prefix, clock=clock)
    from modelrouter.usage.budget_sqlite import SqliteBudgetStore

    if target is None:
        from modelrouter.paths import user_data_dir

        return SqliteBudgetStore(user_data_dir() / "budgets.db", clock=clock)
    if "://" in target and not target.startswith("sqlite:///"):
        raise ValueError(f"unsupported budget store URL {target!r}: use redis:// or sqlite:///")
    return SqliteBudgetStore(target.removeprefix("sqlite:///"), clock=clock)
