"""The public surface: a sorted, exact __all__, and an import that does no work."""

from __future__ import annotations

import json
import subprocess
import sys

import modelrouter
import modelrouter.errors as errors


def test_all_is_sorted_and_exact() -> None:
    assert modelrouter.__all__ == sorted(modelrouter.__all__)
    public = {name for name in modelrouter._EXPORTS} | {"__version__"}
    assert set(modelrouter.__all__) == public
    for name in modelrouter.__all__:
        assert getattr(modelrouter, name) is not None, name


def test_errors_all_is_sorted_and_complete() -> None:
    assert errors.__all__ == sorted(errors.__all__)
    defined = {
        name for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, Exception)
        and value.__module__ == errors.__name__
    }
    assert defined <= set(errors.__all__)


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        modelrouter.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_import_loads_no_submodules_and_reads_no_files() -> None:
    """`import modelrouter` must not import the catalog, pydantic, yaml or typer, nor open files."""
    code = r"""
import builtins, io, json, os, sys
opened = []
real_open = io.open
def spy(file, *a, **k):
    opened.append(str(file))
    return real_open(file, *a, **k)
builtins.open = io.open = spy
before = set(sys.modules)
import modelrouter
after = set(sys.modules) - before
print(json.dumps({"modules": sorted(after), "opened": opened}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    loaded = [m for m in result["modules"] if m.startswith("modelrouter")]
    assert loaded == ["modelrouter"]
    for heavy in ("pydantic", "yaml", "typer", "rich", "modelrouter.catalog"):
        assert heavy not in result["modules"], heavy
    assert result["opened"] == []


def test_error_tree_openai_bodies() -> None:
    error = errors.RateLimitError("slow down", status_code=429, retry_after=2.0,
                                  provider="openai", model="openai:gpt-5")
    assert isinstance(error, errors.ProviderStatusError)
    assert isinstance(error, errors.ProviderError)
    assert error.retryable and error.http_status == 429
    assert error.to_openai_body()["error"]["type"] == "rate_limit_error"
    assert errors.status_error_class(503) is errors.InternalServerError
    assert errors.status_error_class(401) is errors.AuthenticationError
    assert errors.status_error_class(418) is errors.ProviderStatusError
    timeout = errors.ProviderTimeoutError("too slow", kind="first_token")
    assert isinstance(timeout, errors.ProviderConnectionError) and timeout.retryable
    assert timeout.http_status == 504
    config = errors.ConfigError("unknown model 'openai:gpt-9'", file="modelrouter.toml",
                                key="tiers.fast.models[2]", hint="did you mean 'openai:gpt-5'?")
    assert str(config) == ("modelrouter.toml: tiers.fast.models[2]: unknown model "
                           "'openai:gpt-9' (did you mean 'openai:gpt-5'?)")
    assert not errors.BadRequestError("x", status_code=400).retryable
