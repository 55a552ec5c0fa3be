"""Workflow patterns over a ``Router``: single shot, plan → parallel sections → combine,
analyse → generate, and iterative refinement; each returns a ``WorkflowResult`` with the
steps it took and an exact cost roll-up. Examples in ``modelrouter.workflows.patterns``.
"""

from __future__ import annotations

from modelrouter.workflows.patterns import (
    WorkflowResult,
    analyze_then_generate,
    iterative_refine,
    plan_parallel_combine,
    single_shot,
)

__all__ = [
    "WorkflowResult",
    "analyze_then_generate",
    "iterative_refine",
    "plan_parallel_combine",
    "single_shot",
]
