"""Cheap features of a request: what the complexity scorer sees.

Two kinds, both computed in well under a millisecond with the standard library:

* **named features**: length, structure, code and maths markers, question type, language,
  conversation depth and the requested output form, each a float with a readable name (these
  are what ``--explain`` shows);
* **hashed n-grams**: lower-cased word unigrams and bigrams, hashed with CRC-32 into
  ``2**HASH_BITS`` buckets. CRC-32 is stable across processes and platforms, unlike ``hash()``.

Only the prompt text is used (plus the shape of the conversation); benchmark metadata such as
the MMLU subject is never a feature.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zlib import crc32

HASH_BITS = 20
_HASH_MASK = (1 << HASH_BITS) - 1

# A request is a bare prompt or a chat message list (OpenAI shape: role + content).
Request = str | Sequence[Mapping[str, Any]]

_TOKEN = re.compile(r"[a-z]+|\d+|[^\sa-z\d]")
_WORD = re.compile(r"[A-Za-z]+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_OPTION_LINE = re.compile(r"^\s*\(?[A-Ea-e][.)]\s", re.MULTILINE)
_CODE = re.compile(r"```|\bdef |\bclass |\breturn\b|[{};]\s*$|^\s{4}\S|#include|\bfunction\b",
                   re.MULTILINE)
_MATH = re.compile(r"[=+*/^<>]|\\frac|\\sqrt|\$|\bsqrt\b|\bmod\b|∫|∑|π|√|≤|≥")
_NEGATION = re.compile(r"\b(?:not|except|false|least|incorrect)\b", re.IGNORECASE)
_STATEMENTS = re.compile(r"\bstatement\s*[12]\b", re.IGNORECASE)
_BLANK = re.compile(r"_{2,}")
_WH = ("what", "which", "how", "why", "who", "when", "where")
_FORMS = {
    "form_code": re.compile(r"\b(?:write|implement) (?:a |an )?(?:python|function|program|code|"
                            r"script|class|sql|query)\b", re.IGNORECASE),
    "form_explain": re.compile(r"\b(?:explain|describe|discuss|why)\b", re.IGNORECASE),
    "form_list": re.compile(r"\b(?:list|enumerate|bullet|steps)\b", re.IGNORECASE),
    "form_structured": re.compile(r"\b(?:json|table|csv|yaml|format)\b", re.IGNORECASE),
    "form_creative": re.compile(r"\b(?:write|compose|draft|story|poem|essay|email)\b",
                                re.IGNORECASE),
    "form_short": re.compile(r"\banswer:\s*$|\b(?:one word|briefly|concise|short)\b",
                             re.IGNORECASE),
}


@dataclass(frozen=True, slots=True)
class Features:
    """The features of one request: named floats and hashed n-gram buckets (with counts)."""

    named: dict[str, float]
    hashed: dict[int, float]


def request_text(request: Request) -> tuple[str, int, bool]:
    """The text to score (the last user turn), the number of user turns, and a system prompt?"""
    if isinstance(request, str):
        return request, 1, False
    last, turns, system = "", 0, False
    for message in request:
        role = message.get("role")
        text = _content_text(message.get("content"))
        if role == "user":
            last, turns = text, turns + 1
        elif role == "system" and text:
            system = True
    return last, max(turns, 1), system


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        parts = [p.get("text", "") for p in content if isinstance(p, Mapping)]
        return "\n".join(p for p in parts if isinstance(p, str))
    return ""


def named_features(text: str, turns: int = 1, system: bool = False) -> dict[str, float]:
    """Readable, cheap features; every value is a finite float of modest size."""
    chars = len(text)
    words = _WORD.findall(text)
    numbers = _NUMBER.findall(text)
    lines = text.count("\n") + 1
    stripped = text.lstrip().lower()
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    sentences = max(1, len(re.findall(r"[.?!](?:\s|$)", text)))
    out = {
        "log_chars": math.log1p(chars),
        "log_words": math.log1p(len(words)),
        "log_lines": math.log1p(lines),
        "mean_word_len": sum(map(len, words)) / len(words) if words else 0.0,
        "words_per_sentence": math.log1p(len(words) / sentences),
        "numbers": math.log1p(len(numbers)),
        "digit_share": sum(ch.isdigit() for ch in text) / chars if chars else 0.0,
        "decimals_or_percent": float(any("." in n for n in numbers) or "%" in text),
        "big_number": float(any(len(n.replace(",", "")) >= 4 for n in numbers)),
        "math_markers": math.log1p(len(_MATH.findall(text))),
        "code_markers": math.log1p(len(_CODE.findall(text))),
        "options": math.log1p(len(_OPTION_LINE.findall(text))),
        "negation": float(bool(_NEGATION.search(text))),
        "statements": float(bool(_STATEMENTS.search(text))),
        "blank": float(bool(_BLANK.search(text))),
        "question_mark": float("?" in text),
        "wh_start": float(stripped.startswith(_WH)),
        "non_ascii_share": non_ascii / chars if chars else 0.0,
        "uppercase_share": sum(ch.isupper() for ch in text) / chars if chars else 0.0,
        "turns": math.log(turns),
        "system_prompt": float(system),
    }
    for name, pattern in _FORMS.items():
        out[name] = float(bool(pattern.search(text)))
    return out


NAMED_FEATURES: tuple[str, ...] = tuple(named_features("x"))


def hashed_ngrams(text: str) -> dict[int, float]:
    """Word unigram and bigram buckets with ``1 + log(count)`` weights, L2-normalised."""
    tokens = [_shape(t) for t in _TOKEN.findall(text.lower())]
    counts: dict[int, int] = {}
    previous = "<s>"
    for token in tokens:
        for gram in (token, f"{previous} {token}"):
            bucket = crc32(gram.encode("utf-8")) & _HASH_MASK
            counts[bucket] = counts.get(bucket, 0) + 1
        previous = token
    if not counts:
        return {}
    values = {b: 1.0 + math.log(c) for b, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in values.values()))
    return {b: v / norm for b, v in values.items()}


def _shape(token: str) -> str:
    # Numbers by digit count: "1907" and "2024" are the same kind of token.
    return f"<num{min(len(token), 5)}>" if token[0].isdigit() else token


def extract(request: Request) -> Features:
    """All features of a request (a prompt string or chat messages)."""
    text, turns, system = request_text(request)
    return Features(named_features(text, turns, system), hashed_ngrams(text))
