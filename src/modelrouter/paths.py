"""Where modelrouter keeps user data: ``MODELROUTER_HOME`` or the platform's user data dir."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "MODELROUTER_HOME"


def user_data_dir() -> Path:
    """The directory for state files (created on demand by the writers, not here)."""
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override)
    from platformdirs import user_data_dir as platform_dir

    return Path(platform_dir("modelrouter", appauthor=False))
