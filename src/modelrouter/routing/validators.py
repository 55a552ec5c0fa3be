"""Quality validators: cheap checks on an answer that trigger escalation to the next tier.

Each validator is a name and a pure check returning None (accept) or the reason it rejects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from modelrouter.adapters.base import Response
from modelrouter.errors import ConfigError, ValidationFailedError

Check = Callable[[Response], str | None]


@dataclass(frozen=True, slots=True)
class Validator:
    name: str
    check: Check

    def validate(self, response: Response) -> None:
        """Raise ValidationFailedError when the answer is rejected."""
        reason = self.check(response)
        if reason is not None:
            raise ValidationFailedError(self.name, reason)


def non_empty(name: str = "non_empty") -> Validator:
    def check(response: Response) -> str | None:
        if response.text.strip() or response.tool_calls:
            return None
        return "the answer is empty"

    return Validator(name, check)


def _parse_json(text: str) -> tuple[Any, str | None]:
    stripped = text.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", stripped, re.DOTALL)
    if fenced:  # models often wrap JSON in a code fence even when asked not to
        stripped = fenced.group(1)
    try:
        return json.loads(stripped), None
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"


def valid_json(name: str = "json") -> Validator:
    def check(response: Response) -> str | None:
        return _parse_json(response.text)[1]

    return Validator(name, check)


def json_schema(schema: Mapping[str, Any], name: str = "json_schema") -> Validator:
    import jsonschema  # imported only when a schema validator is configured

    validator_cls = jsonschema.validators.validator_for(schema)
    try:
        validator_cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ConfigError(f"invalid JSON schema: {exc.message}", key=f"validators.{name}") from None
    compiled = validator_cls(schema)

    def check(response: Response) -> str | None:
        value, problem = _parse_json(response.text)
        if problem:
            return problem
        error = jsonschema.exceptions.best_match(compiled.iter_errors(value))
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        return f"does not match the schema at {where}: {error.message}"

    return Validator(name, check)


def regex(pattern: str, name: str = "regex") -> Validator:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"invalid regex {pattern!r}: {exc}", key=f"validators.{name}") from None

    def check(response: Response) -> str | None:
        return None if compiled.search(response.text) else f"does not match /{pattern}/"

    return Validator(name, check)


def length(min_chars: int = 0, max_chars: int | None = None, name: str = "length") -> Validator:
    def check(response: Response) -> str | None:
        size = len(response.text)
        if size < min_chars:
            return f"{size} characters, fewer than the minimum {min_chars}"
        if max_chars is not None and size > max_chars:
            return f"{size} characters, more than the maximum {max_chars}"
        return None

    return Validator(name, check)


def self_check(name: str = "self_check") -> Validator:
    """The free self-check (``routing.selfcheck``): empty, cut off, or wrong arithmetic."""
    from modelrouter.routing.selfcheck import inadequacy

    def check(response: Response) -> str | None:
        if response.tool_calls:
            return None
        return inadequacy(response.text, response.finish_reason)

    return Validator(name, check)


def custom(fn: Callable[[Response], bool | str | None], name: str | None = None) -> Validator:
    """Wrap a callable: True/None accept, False rejects, a string rejects with that reason."""

    def check(response: Response) -> str | None:
        verdict = fn(response)
        if verdict is True or verdict is None:
            return None
        if verdict is False:
            return "rejected by the custom check"
        return str(verdict)

    return Validator(name or str(getattr(fn, "__name__", "custom")), check)


def from_settings(kind: str, name: str, options: Mapping[str, Any]) -> Validator:
    """Build a validator from config (``[[validators]]``)."""
    if kind == "non_empty":
        return non_empty(name)
    if kind == "json":
        return valid_json(name)
    if kind == "json_schema":
        return json_schema(options["schema"], name)
    if kind == "regex":
        return regex(options["pattern"], name)
    if kind == "length":
        return length(options.get("min_chars") or 0, options.get("max_chars"), name)
    if kind == "self_check":
        return self_check(name)
    raise ConfigError(f"unknown validator kind {kind!r}", key=f"validators.{name}.kind",
                      hint="use non_empty, json, json_schema, regex, length or self_check")
