"""Usage: the ledger, summaries, budgets, alerts and recommendations. Nothing is imported here."""
