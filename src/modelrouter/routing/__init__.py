"""Routing primitives: retry decisions, circuit breakers and rate limits as pure, clock-free code.

Submodules are imported explicitly (``modelrouter.routing.retry``, ``.breaker``, ``.ratelimit``)
so that ``import modelrouter`` stays free of work.
"""
