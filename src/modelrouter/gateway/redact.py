"""Redaction of secrets in log messages and structured data before they are written anywhere.

Built in: ``Bearer <token>``, OpenAI/Anthropic-style ``sk-…`` keys, modelrouter virtual keys
``mr-…``, and the values of secret-looking fields (``authorization``, ``api_key``, ``x-api-key``,
``password``, ``secret``, ``token``…). Configured patterns (regular expressions) are added; a
match is replaced by ``[REDACTED]``. ``RedactingFilter`` plugs it into ``logging``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["MASK", "RedactingFilter", "Redactor"]

MASK = "[REDACTED]"
_BUILT_IN = (
    r"(?i:(?<=bearer ))[A-Za-z0-9._~+/=-]{8,}",
    r"\bsk-[A-Za-z0-9_-]{8,}",
    r"\bmr-[A-Za-z0-9_-]{16,}",
)
_SECRET_FIELDS = re.compile(
    r"(?i)^(authorization|proxy-authorization|x-api-key|api[_-]?key|.*secret.*|.*password.*|"
    r".*token$|x-modelrouter-signature|cookie|set-cookie)$"
)
# Token *counts* are not secrets.
_NOT_SECRET = re.compile(r"(?i)^(max_tokens|max_completion_tokens|.*_tokens)$")


class Redactor:
    """Replaces secrets in text and (recursively) in dicts, lists and tuples."""

    def __init__(self, patterns: Iterable[str] = ()) -> None:
        extra = list(patterns)
        for pattern in extra:
            re.compile(pattern)  # a bad pattern fails here, with its own message
        self._pattern = re.compile("|".join(f"(?:{p})" for p in (*_BUILT_IN, *extra)))

    def text(self, value: str) -> str:
        return self._pattern.sub(MASK, value)

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self._field(k, v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.data(v) for v in value)
        return value

    def _field(self, name: Any, value: Any) -> Any:
        if (isinstance(name, str) and _SECRET_FIELDS.match(name) and not _NOT_SECRET.match(name)
                and isinstance(value, (str, bytes))):
            return MASK
        return self.data(value)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the message and its arguments in place."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor or Redactor()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = self.redactor.text(record.getMessage())
            record.args = None
        elif isinstance(record.msg, str):
            record.msg = self.redactor.text(record.msg)
        else:
            record.msg = self.redactor.data(record.msg)
        return True
