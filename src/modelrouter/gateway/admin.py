"""The registry API (the seed's model-registry service) and the admin API for virtual keys.

Registry: ``GET /registry/models``, ``GET /registry/models/{id}`` (spec, price history, bands,
live health) and ``GET /registry/catalog`` (the whole catalog, for ``MODEL_REGISTRY_URL``).
Admin, behind the master key: ``GET|POST /admin/keys``, ``POST /admin/keys/{id}/revoke|rotate``.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from modelrouter.gateway import openai_wire as ow
from modelrouter.gateway.http import Request, Response

if TYPE_CHECKING:
    from modelrouter.gateway.app import Gateway


def mount_admin(gateway: Gateway) -> None:
    registry = Registry(gateway)
    admin = Admin(gateway)
    gateway.routes[("GET", "/registry/models")] = registry.list
    gateway.routes[("GET", "/registry/catalog")] = registry.catalog
    gateway.routes[("GET", "/admin/keys")] = admin.list
    gateway.routes[("POST", "/admin/keys")] = admin.create
    gateway.prefix_routes.append(("GET", "/registry/models/", registry.show))
    gateway.prefix_routes.append(("POST", "/admin/keys/", admin.act))


def _price(gateway: Gateway, model_id: str) -> dict[str, Any] | None:
    catalog = gateway.router.catalog
    price = catalog.prices.price(catalog.get(model_id).pricing_ref)
    return None if price is None else price.to_dict()


class Registry:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def _health(self, model_id: str) -> dict[str, Any]:
        router = self.gateway.router
        now = router._clock()
        snapshot = router.live.breakers.snapshot(now).get(model_id)
        cooldown = router.live.cooldown_until.get(model_id)
        return {
            "breaker": snapshot.state if snapshot else "closed",
            "recent_failures": snapshot.failures_in_window if snapshot else 0,
            "cooling_down_s": round(cooldown - now, 3) if cooldown and cooldown > now else 0,
        }

    async def list(self, request: Request) -> Response:
        await self.gateway.authenticate(request)
        from modelrouter.catalog.band_store import preview_bands

        catalog = self.gateway.router.catalog
        bands = {a.model_id: a for a in preview_bands(catalog).assignments}
        rows = []
        for spec in catalog:
            band = bands.get(spec.model_id)
            rows.append({
                "id": spec.model_id, "provider": spec.provider, "name": spec.metadata.name,
                "context_window": spec.metadata.context_window_input, "free": spec.free,
                "context_band": band.context_band if band else None,
                "cost_tier": band.cost_tier if band else None,
                "price": _price(self.gateway, spec.model_id),
                "health": self._health(spec.model_id),
            })
        return Response(200, ow.dumps({"object": "list", "data": rows}))

    async def show(self, request: Request) -> Response:
        await self.gateway.authenticate(request)
        from modelrouter.catalog import get_pricing_history
        from modelrouter.catalog.band_store import preview_bands

        name = unquote(request.path[len("/registry/models/"):])
        catalog = self.gateway.router.catalog
        spec = catalog.get(name)  # UnknownModelError → 404 with suggestions
        band = next((a for a in preview_bands(catalog).assignments
                     if a.model_id == spec.model_id), None)
        history = [{"effective_date": h.effective_date.isoformat(),
                    "price": None if h.price is None else h.price.to_dict()}
                   for h in get_pricing_history(spec.model_id)]
        body = {
            "id": spec.model_id, "spec": spec.model_dump(mode="json"),
            "price": _price(self.gateway, spec.model_id), "price_history": history,
            "band": band.to_dict() if band else None, "health": self._health(spec.model_id),
        }
        return Response(200, ow.dumps(body))

    async def catalog(self, request: Request) -> Response:
        """The catalog as data: every model file and every price version, for remote loads."""
        await self.gateway.authenticate(request)
        catalog = self.gateway.router.catalog
        models = [spec.model_dump(mode="json", exclude_defaults=False) for spec in catalog]
        pricing: dict[str, dict[str, Any]] = {}
        for ref in catalog.prices.refs():
            provider, _, key = ref.partition("/")
            versions = pricing.setdefault(provider, {})
            for day, price in zip(catalog.prices.history_dates(ref),
                                  catalog.prices.history(ref), strict=True):
                entry = versions.setdefault(day.isoformat(), {})
                entry[key] = None if price is None else _entry(price.to_dict())
        body = {"models": models, "pricing": {
            provider: {"provider": provider, "pricing_versions": [
                {"effective_date": day, "models": entries}
                for day, entries in sorted(versions.items())]}
            for provider, versions in pricing.items()}}
        return Response(200, json.dumps(body, default=_plain).encode())


def _entry(price: dict[str, Any]) -> dict[str, Any]:
    entry = {k: price[k] for k in ("input", "output", "cache_read", "cache_write", "reasoning")}
    entry["tiers"] = [{k: v for k, v in t.items()} for t in price["tiers"]]
    if price.get("source"):
        entry["source"] = price["source"]
    return entry


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


class Admin:
    """Key management over HTTP, for the master key only; every action is audited."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def _master(self, request: Request) -> None:
        caller = await self.gateway.authenticate(request)
        if caller.key is not None:
            raise ow.WireError(403, "the admin API needs the master key", code="forbidden")
        if self.gateway.keys is None:
            raise ow.WireError(404, "virtual keys are not enabled on this gateway")

    async def list(self, request: Request) -> Response:
        await self._master(request)
        assert self.gateway.keys is not None
        keys = [k.to_dict() for k in self.gateway.keys.list()]
        return Response(200, json.dumps({"data": keys}, default=_plain).encode())

    async def create(self, request: Request) -> Response:
        await self._master(request)
        assert self.gateway.keys is not None
        body = ow.decode_body(request.body, max_bytes=64 * 1024)
        try:
            budget = body.get("budget_usd")
            plaintext, key = self.gateway.keys.create(
                str(body.get("name") or "unnamed"),
                budget_usd=None if budget is None else Decimal(str(budget)),
                period=str(body.get("period") or "month"),
                rpm=body.get("rpm"), tpm=body.get("tpm"),
                models=tuple(body.get("models") or ()),
                expires=None, actor="admin-api",
            )
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ow.WireError(400, f"invalid key settings: {exc}") from None
        if key.budget_usd is not None:
            from modelrouter.usage.budgets import Budget, open_budget_store

            store = open_budget_store()
            try:
                store.set_budget(Budget(key.scope, key.period, key.budget_usd))  # type: ignore[arg-type]
            finally:
                store.close()
        data = {**key.to_dict(), "key": plaintext,
                "note": "store this key now: it cannot be shown again"}
        return Response(201, json.dumps(data, default=_plain).encode())

    async def act(self, request: Request) -> Response:
        await self._master(request)
        assert self.gateway.keys is not None
        rest = request.path[len("/admin/keys/"):]
        key_id, _, action = rest.partition("/")
        if action == "revoke":
            if not self.gateway.keys.revoke(key_id, actor="admin-api"):
                raise ow.WireError(404, f"no key {key_id!r}")
            return Response(200, ow.dumps({"id": key_id, "revoked": True}))
        if action == "rotate":
            plaintext = self.gateway.keys.rotate(key_id, actor="admin-api")
            return Response(200, ow.dumps({"id": key_id, "key": plaintext}))
        raise ow.WireError(404, f"no admin action {action!r}")
