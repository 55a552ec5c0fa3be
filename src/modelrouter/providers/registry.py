"""The provider registry: built-ins, ``register()``-ed ones, and plugins found lazily by name.

A provider is configuration on an adapter: which wire format, which base URL, which key.
Third-party packages add providers through the entry-point group ``modelrouter.providers``;
an entry point named like the provider resolves to a ``ProviderSpec`` (or a zero-argument
callable returning one) and is loaded only when that name is first asked for.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

import httpx

from modelrouter.adapters.base import Adapter, Endpoint
from modelrouter.errors import ConfigError, ProviderNotFoundError

ENTRY_POINT_GROUP = "modelrouter.providers"

# adapter name → "module:Class", imported on first use.
ADAPTER_CLASSES: dict[str, str] = {
    "openai_compat": "modelrouter.adapters.openai_compat:OpenAICompatAdapter",
    "anthropic": "modelrouter.adapters.anthropic:AnthropicAdapter",
    "gemini": "modelrouter.adapters.gemini:GeminiAdapter",
    "cohere": "modelrouter.adapters.cohere:CohereAdapter",
}


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """What a provider is: its wire format, where it lives, and where its key comes from."""

    name: str
    adapter: str
    base_url: str
    key_env: str | None = None  # None: no key needed (a local server)
    headers: Mapping[str, str] = field(default_factory=dict)


def adapter_class(name: str) -> Callable[[httpx.AsyncClient, Endpoint], Adapter]:
    target = ADAPTER_CLASSES.get(name)
    if target is None:
        raise ConfigError(
            f"unknown adapter {name!r}", key="adapter",
            hint="adapters are " + ", ".join(ADAPTER_CLASSES),
        )
    module, _, attr = target.partition(":")
    cls: Callable[[httpx.AsyncClient, Endpoint], Adapter] = getattr(import_module(module), attr)
    return cls


def build_adapter(
    spec: ProviderSpec, client: httpx.AsyncClient, api_key: str | None,
    *, base_url: str | None = None, headers: Mapping[str, str] | None = None,
) -> Adapter:
    endpoint = Endpoint(
        base_url=base_url or spec.base_url,
        api_key=api_key,
        headers={**spec.headers, **(headers or {})},
        provider=spec.name,
    )
    return adapter_class(spec.adapter)(client, endpoint)


def _builtins() -> dict[str, ProviderSpec]:
    from modelrouter.config.defaults import BUILTIN_PROVIDERS

    return {
        name: ProviderSpec(name, d.adapter, d.base_url, d.key_env)
        for name, d in BUILTIN_PROVIDERS.items()
    }


class ProviderRegistry:
    """Providers by name and alias; thread-safe registration, lazy plugin loading."""

    def __init__(self, specs: Iterable[ProviderSpec] = (), *, load_builtins: bool = True,
                 use_entry_points: bool = True) -> None:
        self._lock = threading.Lock()
        self._specs: dict[str, ProviderSpec] = {}
        self._aliases: dict[str, str] = {}
        self._use_entry_points = use_entry_points
        if load_builtins:
            self._specs.update(_builtins())
            self._aliases["gemini"] = "google"
        for spec in specs:
            self._specs[spec.name] = spec

    def register(self, spec: ProviderSpec, *, aliases: Iterable[str] = (),
                 replace: bool = False) -> ProviderSpec:
        with self._lock:
            if spec.name in self._specs and not replace:
                raise ConfigError(f"provider {spec.name!r} is already registered",
                                  hint="pass replace=True to override it")
            adapter_class_name = ADAPTER_CLASSES.get(spec.adapter)
            if adapter_class_name is None:
                raise ConfigError(f"unknown adapter {spec.adapter!r} for {spec.name!r}",
                                  hint="adapters are " + ", ".join(ADAPTER_CLASSES))
            self._specs[spec.name] = spec
            for alias in aliases:
                self._aliases[alias] = spec.name
        return spec

    def get(self, name: str) -> ProviderSpec:
        key = self._aliases.get(name, name)
        spec = self._specs.get(key)
        if spec is not None:
            return spec
        plugin = self._from_entry_point(key)
        if plugin is not None:
            return plugin
        close = difflib.get_close_matches(name, [*self._specs, *self._aliases], n=1, cutoff=0.6)
        raise ProviderNotFoundError(name, close)

    def list_providers(self) -> list[str]:
        names = set(self._specs)
        if self._use_entry_points:
            names.update(ep.name for ep in _entry_points())
        return sorted(names)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._aliases.get(name, name) in self._specs

    def _from_entry_point(self, name: str) -> ProviderSpec | None:
        if not self._use_entry_points:
            return None
        for ep in _entry_points():
            if ep.name != name:
                continue
            loaded: Any = ep.load()
            spec = loaded() if callable(loaded) and not isinstance(loaded, ProviderSpec) else loaded
            if not isinstance(spec, ProviderSpec):
                raise ConfigError(
                    f"entry point {ep.value!r} for provider {name!r} gave "
                    f"{type(spec).__name__}, not a ProviderSpec",
                    key=ENTRY_POINT_GROUP,
                )
            with self._lock:
                self._specs.setdefault(name, spec)
            return spec
        return None


def _entry_points() -> list[Any]:
    from importlib.metadata import entry_points

    return list(entry_points(group=ENTRY_POINT_GROUP))


_default: ProviderRegistry | None = None


def default_registry() -> ProviderRegistry:
    global _default
    if _default is None:
        _default = ProviderRegistry()
    return _default


def register(spec: ProviderSpec, *, aliases: Iterable[str] = (), replace: bool = False
             ) -> ProviderSpec:
    """Register a provider in the process-wide registry."""
    return default_registry().register(spec, aliases=aliases, replace=replace)


def get(name: str) -> ProviderSpec:
    return default_registry().get(name)


def list_providers() -> list[str]:
    return default_registry().list_providers()
