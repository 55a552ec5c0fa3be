"""The model-definition format: one YAML file per model, validated strictly.

Unknown fields are rejected so that a typo in a catalog file is an error, not a silent default.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LARGE_CONTEXT_TOKENS = 100_000
EXTRA_LARGE_CONTEXT_TOKENS = 1_000_000

MODEL_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*:[A-Za-z0-9][A-Za-z0-9._/:@-]*$")


class Capability(StrEnum):
    """What a model can do; the vocabulary of ``capabilities`` in catalog files."""

    TEXT_INPUT = "text_input"
    IMAGE_INPUT = "image_input"
    AUDIO_INPUT = "audio_input"
    VIDEO_INPUT = "video_input"
    DOCUMENT_INPUT = "document_input"
    TEXT_OUTPUT = "text_output"
    IMAGE_OUTPUT = "image_output"
    STRUCTURED_OUTPUT = "structured_output"
    FUNCTION_CALLING = "function_calling"
    JSON_MODE = "json_mode"
    STREAMING = "streaming"
    BATCH_API = "batch_api"
    LARGE_CONTEXT = "large_context"
    EXTRA_LARGE_CONTEXT = "extra_large_context"
    PROMPT_CACHING = "prompt_caching"
    EXTENDED_THINKING = "extended_thinking"
    CODE_GENERATION = "code_generation"
    MATH_REASONING = "math_reasoning"
    CONTENT_FILTERING = "content_filtering"
    SYSTEM_MESSAGES = "system_messages"


class SpeedClass(StrEnum):
    FAST = "fast"
    STANDARD = "standard"
    SLOW = "slow"


class QualityClass(StrEnum):
    BASIC = "basic"
    STANDARD = "standard"
    HIGH = "high"
    FRONTIER = "frontier"


QUALITY_RANK: dict[QualityClass, int] = {q: i for i, q in enumerate(QualityClass)}
SPEED_RANK: dict[SpeedClass, int] = {s: i for i, s in enumerate(SpeedClass)}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ModelMetadata(_Strict):
    name: str = Field(min_length=1)
    version: str | None = None
    api_identifier: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    context_window_input: Annotated[int, Field(gt=0)]
    context_window_output: Annotated[int, Field(gt=0)]
    knowledge_cutoff: str | None = None
    release_date: date | None = None
    deprecation_date: date | None = None
    last_verified: date

    @field_validator("knowledge_cutoff")
    @classmethod
    def _cutoff_is_a_date(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", value):
            raise ValueError("knowledge_cutoff must be YYYY-MM or YYYY-MM-DD")
        return value


class Optimization(_Strict):
    recommended_for: tuple[str, ...] = ()
    best_practices: tuple[str, ...] = ()
    tips: tuple[str, ...] = ()
    pitfalls: tuple[str, ...] = ()


class Documentation(_Strict):
    model_page: str | None = None
    pricing_page: str | None = None


class Provenance(_Strict):
    """Where the specs and prices came from, and how disagreements were settled."""

    specs: str
    pricing: str
    notes: tuple[str, ...] = ()


class ModelSpec(_Strict):
    """One catalog entry, exactly as in ``models/<provider>/<model>.yaml``."""

    model_id: str
    provider: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    metadata: ModelMetadata
    capabilities: tuple[Capability, ...]
    optimization: Optimization = Optimization()
    pricing_ref: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*/.+$")
    documentation: Documentation = Documentation()
    free: bool = False
    speed_class: SpeedClass | None = None
    quality_class: QualityClass | None = None
    provenance: Provenance | None = None
    status: Literal["active", "preview", "deprecated"] = "active"

    @field_validator("capabilities")
    @classmethod
    def _no_duplicate_capabilities(
        cls, value: tuple[Capability, ...]
    ) -> tuple[Capability, ...]:
        seen: set[Capability] = set()
        for capability in value:
            if capability in seen:
                raise ValueError(f"capability {capability.value!r} is listed twice")
            seen.add(capability)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        if not MODEL_ID_PATTERN.match(self.model_id):
            raise ValueError(
                f"model_id {self.model_id!r} must look like 'provider:model' (e.g. 'openai:gpt-5')"
            )
        prefix = self.model_id.split(":", 1)[0]
        if prefix != self.provider:
            raise ValueError(
                f"model_id {self.model_id!r} starts with {prefix!r} but provider is "
                f"{self.provider!r}"
            )
        context = self.metadata.context_window_input
        caps = set(self.capabilities)
        if Capability.LARGE_CONTEXT in caps and context <= LARGE_CONTEXT_TOKENS:
            raise ValueError(
                f"capabilities: large_context needs a context window over "
                f"{LARGE_CONTEXT_TOKENS:,} tokens, this model has {context:,}"
            )
        if Capability.EXTRA_LARGE_CONTEXT in caps and context < EXTRA_LARGE_CONTEXT_TOKENS:
            raise ValueError(
                f"capabilities: extra_large_context needs at least "
                f"{EXTRA_LARGE_CONTEXT_TOKENS:,} tokens, this model has {context:,}"
            )
        return self

    def effective_capabilities(self) -> frozenset[Capability]:
        """Declared capabilities plus those implied by the context window (computed once)."""
        cached: frozenset[Capability] | None = self.__dict__.get("_effective_caps")
        if cached is None:
            cached = self._compute_effective_capabilities()
            # Frozen model: store beside the fields; selection calls this on every request.
            self.__dict__["_effective_caps"] = cached
        return cached

    def _compute_effective_capabilities(self) -> frozenset[Capability]:
        caps = set(self.capabilities)
        context = self.metadata.context_window_input
        if context > LARGE_CONTEXT_TOKENS:
            caps.add(Capability.LARGE_CONTEXT)
        if context >= EXTRA_LARGE_CONTEXT_TOKENS:
            caps.add(Capability.EXTRA_LARGE_CONTEXT)
        return frozenset(caps)
