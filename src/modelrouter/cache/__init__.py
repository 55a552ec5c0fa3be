"""The response cache: an identical request answered again without calling a model.

- ``modelrouter.cache.keys``: the canonical request key and which requests may be cached.
- ``modelrouter.cache.backends``: where entries live (memory LRU, SQLite, Redis).
- ``modelrouter.cache.store``: ``ResponseCache`` (namespaces, TTL, size, counters) and stream
  replay.

Nothing is imported here, so ``import modelrouter.cache.keys`` stays cheap.
"""
