"""The one exception tree of modelrouter.

::

    RouterError
    ├── ConfigError                     file + dotted key + what would fix it
    │   ├── CatalogError                a catalog, pricing or bands file
    │   └── ProviderNotFoundError       with "did you mean"
    ├── UnknownModelError               with "did you mean"
    ├── UnsupportedCapabilityError
    ├── PricingError
    ├── BudgetExceededError             scope, limit, spent, reserved
    ├── RateLimitedError                local limit hit (key, model); retry_after
    ├── CircuitOpenError                model, until
    ├── ValidationFailedError           validator name, reason
    ├── ProviderError                   provider, model, request_id, body
    │   ├── ProviderConnectionError
    │   │   └── ProviderTimeoutError    kind = connect | first_token | total
    │   └── ProviderStatusError         status_code, headers, retry_after
    │       ├── BadRequestError              400
    │       ├── AuthenticationError          401
    │       ├── PermissionDeniedError        403
    │       ├── NotFoundError                404
    │       ├── ConflictError                409
    │       ├── UnprocessableEntityError     422
    │       ├── RateLimitError               429
    │       └── InternalServerError          5xx
    └── AllProvidersFailedError         the ordered attempts with their errors

Every error exposes ``retryable``, ``http_status`` and ``to_openai_body()`` so the gateway
can answer in the OpenAI error shape with the right status.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

__all__ = [
    "AllProvidersFailedError",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceededError",
    "CatalogError",
    "CircuitOpenError",
    "ConfigError",
    "ConflictError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "PricingError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderNotFoundError",
    "ProviderStatusError",
    "ProviderTimeoutError",
    "RateLimitError",
    "RateLimitedError",
    "RouterError",
    "UnknownModelError",
    "UnprocessableEntityError",
    "UnsupportedCapabilityError",
    "ValidationFailedError",
    "status_error_class",
]


class RouterError(Exception):
    """Base of every error modelrouter raises on purpose."""

    http_status: ClassVar[int] = 500
    error_type: ClassVar[str] = "router_error"
    retryable: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def code(self) -> str | None:
        return None

    @property
    def param(self) -> str | None:
        return None

    def to_openai_body(self) -> dict[str, Any]:
        """The OpenAI error body: ``{"error": {"message", "type", "param", "code"}}``."""
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }


class ConfigError(RouterError):
    """A configuration file or value is wrong; says where and what would fix it."""

    http_status = 500
    error_type = "config_error"

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.file = file
        self.key = key
        self.hint = hint
        where = ": ".join(part for part in (file, key) if part)
        text = f"{where}: {message}" if where else message
        if hint:
            text = f"{text} ({hint})"
        super().__init__(text)

    @property
    def param(self) -> str | None:
        return self.key


class CatalogError(ConfigError):
    """A catalog, pricing or bands data file is invalid."""

    error_type = "catalog_error"


class ProviderNotFoundError(ConfigError):
    """No provider registered (or installed as a plugin) under that name."""

    error_type = "invalid_request_error"

    def __init__(self, name: str, suggestions: Sequence[str] = ()) -> None:
        self.name = name
        self.suggestions = tuple(suggestions)
        hint = f"did you mean {self.suggestions[0]!r}?" if self.suggestions else None
        super().__init__(f"unknown provider {name!r}", key="providers", hint=hint)


class UnknownModelError(RouterError):
    """No model with that id, alias or provider identifier; carries suggestions."""

    http_status = 404
    error_type = "invalid_request_error"

    def __init__(self, model: str, suggestions: Sequence[str] = (), *, reason: str = "") -> None:
        self.model = model
        self.suggestions = tuple(suggestions)
        text = reason or f"unknown model {model!r}"
        if self.suggestions:
            quoted = " or ".join(repr(s) for s in self.suggestions)
            text = f"{text}; did you mean {quoted}?"
        super().__init__(text)

    @property
    def code(self) -> str | None:
        return "model_not_found"

    @property
    def param(self) -> str | None:
        return "model"


class UnsupportedCapabilityError(RouterError):
    """A model lacks capabilities a request requires."""

    http_status = 400
    error_type = "invalid_request_error"

    def __init__(self, model: str, missing: Sequence[str]) -> None:
        self.model = model
        self.missing = tuple(missing)
        super().__init__(f"model {model!r} does not support: {', '.join(self.missing)}")

    @property
    def code(self) -> str | None:
        return "unsupported_capability"


class PricingError(RouterError):
    """A price is missing or a usage cannot be priced."""

    http_status = 500
    error_type = "pricing_error"


class BudgetExceededError(RouterError):
    """A request would push spend in a budget scope past its limit."""

    http_status = 429
    error_type = "insufficient_quota"

    def __init__(
        self,
        scope: str,
        limit: Decimal,
        spent: Decimal,
        reserved: Decimal = Decimal(0),
        *,
        retry_after: float | None = None,
    ) -> None:
        self.scope = scope
        self.limit = limit
        self.spent = spent
        self.reserved = reserved
        self.retry_after = retry_after
        super().__init__(
            f"budget {scope!r} exhausted: limit ${limit}, spent ${spent}, reserved ${reserved}"
        )

    @property
    def code(self) -> str | None:
        return "budget_exceeded"


class RateLimitedError(RouterError):
    """A local rate limit (per key or per model) was hit before any provider call."""

    http_status = 429
    error_type = "rate_limit_error"
    retryable = True

    def __init__(
        self, message: str, *, key: str | None = None, model: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.key = key
        self.model = model
        self.retry_after = retry_after
        super().__init__(message)

    @property
    def code(self) -> str | None:
        return "rate_limit_exceeded"


class CircuitOpenError(RouterError):
    """The model's circuit breaker is open until a given time."""

    http_status = 503
    error_type = "service_unavailable"
    retryable = True

    def __init__(self, model: str, until: datetime) -> None:
        self.model = model
        self.until = until
        super().__init__(f"circuit open for {model!r} until {until.isoformat()}")


class ValidationFailedError(RouterError):
    """A quality validator rejected a model's answer."""

    http_status = 502
    error_type = "validation_failed"
    retryable = True

    def __init__(self, validator: str, reason: str) -> None:
        self.validator = validator
        self.reason = reason
        super().__init__(f"validator {validator!r} rejected the answer: {reason}")


class ProviderError(RouterError):
    """A provider call failed."""

    http_status = 502
    error_type = "api_error"

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        self.provider = provider
        self.model = model
        self.request_id = request_id
        self.body = body
        super().__init__(message)


class ProviderConnectionError(ProviderError):
    """The provider could not be reached, or the connection broke."""

    retryable = True


class ProviderTimeoutError(ProviderConnectionError):
    """A connect, first-token or total timeout expired."""

    http_status = 504
    error_type = "timeout"

    def __init__(self, message: str, *, kind: str = "total", **context: Any) -> None:
        if kind not in ("connect", "first_token", "total"):
            raise ValueError(f"unknown timeout kind {kind!r}")
        self.kind = kind
        super().__init__(message, **context)


class ProviderStatusError(ProviderError):
    """The provider answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        headers: Mapping[str, str] | None = None,
        retry_after: float | None = None,
        **context: Any,
    ) -> None:
        self.status_code = status_code
        self.headers = dict(headers or {})
        self.retry_after = retry_after
        super().__init__(message, **context)


class BadRequestError(ProviderStatusError):
    http_status = 400
    error_type = "invalid_request_error"


class AuthenticationError(ProviderStatusError):
    http_status = 401
    error_type = "authentication_error"


class PermissionDeniedError(ProviderStatusError):
    http_status = 403
    error_type = "permission_error"


class NotFoundError(ProviderStatusError):
    http_status = 404
    error_type = "not_found_error"


class ConflictError(ProviderStatusError):
    http_status = 409
    error_type = "conflict_error"
    retryable = True


class UnprocessableEntityError(ProviderStatusError):
    http_status = 422
    error_type = "invalid_request_error"


class RateLimitError(ProviderStatusError):
    http_status = 429
    error_type = "rate_limit_error"
    retryable = True


class InternalServerError(ProviderStatusError):
    http_status = 502
    error_type = "api_error"
    retryable = True


_STATUS_CLASSES: dict[int, type[ProviderStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[ProviderStatusError]:
    """The error class for a provider's HTTP status (5xx → InternalServerError)."""
    if status_code >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status_code, ProviderStatusError)


class AllProvidersFailedError(RouterError):
    """Every candidate failed; carries the ordered attempts and their errors."""

    http_status = 503
    error_type = "service_unavailable"

    def __init__(
        self, attempts: Sequence[tuple[str, BaseException]], *, summary: str | None = None
    ) -> None:
        self.attempts = tuple(attempts)
        if summary is not None:
            detail = "; ".join(f"{model}: {error}" for model, error in self.attempts)
            text = f"{summary}: {detail}" if detail else summary
        elif self.attempts:
            detail = "; ".join(f"{model}: {error}" for model, error in self.attempts)
            text = f"all {len(self.attempts)} attempts failed: {detail}"
        else:
            text = "no model could be tried"
        super().__init__(text)
