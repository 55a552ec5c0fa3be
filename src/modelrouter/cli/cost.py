"""`modelrouter cost`."""

from __future__ import annotations


def cost() -> None:
    """placeholder"""
