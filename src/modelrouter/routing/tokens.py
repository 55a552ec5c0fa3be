"""Prompt-token estimates, offline: no tokenizer download, biased slightly high.

Used before a call to check context windows, cost caps and budgets. Real counts come back in
the provider's usage; this only has to be close and rarely low. English BPE tokenizers average
about four characters per token; code and non-Latin text run denser, which the per-word floor
catches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

PER_MESSAGE_OVERHEAD = 4  # role and separators, as in OpenAI's chat format
IMAGE_TOKENS = 765  # a 1024×1024 image at high detail in OpenAI's accounting
CHARS_PER_TOKEN = 4


def count_text_tokens(text: str) -> int:
    """Estimated tokens in ``text``: the larger of chars/4 and 1.3 per word, at least 1."""
    if not text:
        return 0
    by_chars = -(-len(text) // CHARS_PER_TOKEN)
    if len(text) > 64 and not text.isascii():
        by_chars = len(text) // 2  # CJK and similar: about two characters per token
    by_words = len(text.split()) * 13 // 10
    return max(by_chars, by_words, 1)


def _content_tokens(content: Any) -> int:
    if content is None:
        return 0
    if isinstance(content, str):
        return count_text_tokens(content)
    total = 0
    if isinstance(content, Sequence):
        for part in content:
            if not isinstance(part, Mapping):
                continue
            kind = part.get("type")
            if kind == "text":
                total += count_text_tokens(str(part.get("text", "")))
            elif kind in ("image_url", "image", "input_image"):
                total += IMAGE_TOKENS
            else:
                total += count_text_tokens(json.dumps(part, default=str))
    return total


def count_message_tokens(
    messages: Iterable[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None = None
) -> int:
    """Estimated prompt tokens of OpenAI-shaped messages (and tool definitions)."""
    total = 3  # every reply is primed with a few tokens
    for message in messages:
        total += PER_MESSAGE_OVERHEAD + _content_tokens(message.get("content"))
        for call in message.get("tool_calls") or ():
            function = call.get("function", {}) if isinstance(call, Mapping) else {}
            total += count_text_tokens(str(function.get("name", "")))
            total += count_text_tokens(str(function.get("arguments", "")))
    if tools:
        total += count_text_tokens(json.dumps(list(tools), default=str))
    return total
