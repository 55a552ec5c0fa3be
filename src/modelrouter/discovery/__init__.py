"""Free-model discovery: which OpenRouter models cost nothing today, and are they any good.

- ``free_models``: read OpenRouter's ``/api/v1/models`` list (file or URL) and keep the free
  chat models; classify their speed and quality from a small documented table.
- ``probe``: test each one with a tiny request (bounded concurrency, per-probe timeout).
- ``report``: the dated JSON report, the cache of the last run, and the TOML / env lines that
  adopt the best free model per tier (``modelrouter discover``; run it monthly from cron).
"""
