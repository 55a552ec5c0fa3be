"""Providers: an endpoint + auth + an adapter (wire format). Mostly configuration.

See ``modelrouter.providers.registry``; nothing is imported here.
"""
