"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _shared_data_dir() -> Path | None:
    override = os.environ.get("MODELROUTER_SHARED_DATA")
    candidate = Path(override) if override else REPO_ROOT.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The reference snapshots (LiteLLM, models.dev, OpenRouter) beside the project.

    Skipped on a machine without them, but never in CI, where they must be present.
    """
    found = _shared_data_dir()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("../shared/data is missing: CI must run beside the shared snapshots")
        pytest.skip("reference snapshots not found (set MODELROUTER_SHARED_DATA)")
    return found


@pytest.fixture(autouse=True)
def _isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Every test gets its own user data dir and the bundled catalog, never the real home."""
    home = tmp_path_factory.mktemp("mr-home")
    monkeypatch.setenv("MODELROUTER_HOME", str(home))
    monkeypatch.delenv("MODELROUTER_CATALOG_DIR", raising=False)
    monkeypatch.delenv("MODELROUTER_BANDS_CONFIG", raising=False)
    for var in ("MODELROUTER_DATABASE_URL", "MODELROUTER_REDIS_URL", "MODELROUTER_CACHE_URL",
                "MODELROUTER_CONFIG", "AI_CACHE_ENABLED", "AI_MONTHLY_BUDGET", "DEFAULT_BUDGET",
                "MODEL_REGISTRY_URL", "MODEL_REGISTRY_KEY", "MODELROUTER_MASTER_KEY"):
        monkeypatch.delenv(var, raising=False)
    from modelrouter.catalog.loader import reset_catalog

    reset_catalog()
    yield
    reset_catalog()


@pytest.fixture
def fake() -> Iterator[object]:
    """A FakeProvider on 127.0.0.1, a free port, stopped after the test."""
    from modelrouter.testing import FakeProvider

    with FakeProvider() as server:
        yield server
