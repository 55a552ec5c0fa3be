"""Wire formats: openai_compat, anthropic, gemini, cohere — one class each.

Import the module you need (``modelrouter.adapters.openai_compat``); nothing is imported here.
"""
