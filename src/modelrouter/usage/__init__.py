"""Usage: the ledger, summaries, budgets, alerts and recommendations. Nothing is imported here.

``ledger.open_ledger()`` opens the ledger the router's sink writes to (SQLite by default,
PostgreSQL by URL); ``summary.summarize()`` turns its rows into per-day, model, tier… figures;
``seed`` keeps the seed's ``record_model_usage`` / ``get_usage_summary``.
"""
