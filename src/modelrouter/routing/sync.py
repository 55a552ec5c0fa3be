"""The sync facade: every public coroutine of ``Router``, run on a private event loop.

Generated from the async class rather than written twice: ``SyncRouter.chat`` is
``Router.chat`` driven to completion on a loop thread owned by the facade.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from modelrouter.routing.router import Router

T = TypeVar("T")


class _LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="modelrouter-sync",
                                        daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()


class SyncRouter:
    """``SyncRouter(config).chat(messages, tier="fast")`` without an event loop of your own."""

    _ASYNC_METHODS = ("chat",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._loop = _LoopThread()

        async def make() -> Router:
            return Router(*args, **kwargs)

        self._router = self._loop.run(make())

    def __getattr__(self, name: str) -> Any:
        # Plain attributes and sync methods (resolve, plan, config, live…) pass straight through.
        return getattr(self._router, name)

    def close(self) -> None:
        self._loop.run(self._router.aclose())
        self._loop.stop()

    def __enter__(self) -> SyncRouter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _facade(name: str) -> Callable[..., Any]:
    method = getattr(Router, name)

    @functools.wraps(method)
    def call(self: SyncRouter, *args: Any, **kwargs: Any) -> Any:
        return self._loop.run(getattr(self._router, name)(*args, **kwargs))

    call.__signature__ = inspect.signature(method)  # type: ignore[attr-defined]
    return call


for _name in SyncRouter._ASYNC_METHODS:
    setattr(SyncRouter, _name, _facade(_name))
