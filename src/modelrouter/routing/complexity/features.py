"""Cheap features of a request: what the complexity scorer sees.

Two kinds, both computed in well under a millisecond with the standard library:

* **named features**: length, structure, code and maths markers, question type, language,
  conversation depth and the requested output form, each a float with a readable name (these
  are what ``--explain`` shows);
* **word-problem features**: the quantities in the text (how many, how large, how round),
  fractions, rates, comparisons, "how many are left" and the like; they carry the signal on
  arithmetic word problems, where words alone say little (see ``WORD_PROBLEM_FEATURES``);
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


_QUANTITY = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
_FRACTION = re.compile(r"\d+/\d+")
_PROPER_NAME = re.compile(r"\b[A-Z][a-z]+\b")
_SENTENCE_SPLIT = re.compile(r"[.?!]")
_DIGIT = re.compile(r"\d")
_WORD_PROBLEM = {
    "multiplier_words": re.compile(r"\b(?:half|third|quarter|twice|double|triple|thrice|fifth|"
                                   r"dozen)s?\b", re.IGNORECASE),
    "spelled_numbers": re.compile(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|"
                                  r"eleven|twelve|fifteen|twenty|thirty|forty|fifty|hundred|"
                                  r"thousand)\b", re.IGNORECASE),
    "time_units": re.compile(r"\b(?:hour|minute|second|day|week|month|year)s?\b", re.IGNORECASE),
    "rate_words": re.compile(r"\b(?:each|per|every|rate)\b", re.IGNORECASE),
    "comparisons": re.compile(r"\b(?:more|less|fewer|than|times)\b", re.IGNORECASE),
    "remainder_words": re.compile(r"\b(?:left|remain|remaining|rest)\b", re.IGNORECASE),
    "aggregate_words": re.compile(r"\b(?:average|mean|total|altogether|combined)\b",
                                  re.IGNORECASE),
    "condition_words": re.compile(r"\b(?:if|but|instead|however|after|before)\b",
                                  re.IGNORECASE),
    "measure_units": re.compile(r"\b(?:pounds?|feet|foot|inch(?:es)?|miles?|meters?|kg|gallons?|"
                                r"cups?|liters?|ounces?|yards?)\b", re.IGNORECASE),
    "backward_words": re.compile(r"\b(?:at first|initially|originally|began|started with|"
                                 r"start with|in the beginning)\b", re.IGNORECASE),
    "how_much_more": re.compile(r"how (?:many|much) (?:more|less|fewer|longer|further)",
                                re.IGNORECASE),
    "money_words": re.compile(r"\b(?:profit|discount|interest|tax|tip|sale|cost|price|earn|paid|"
                              r"pay)\w*", re.IGNORECASE),
    "ratio_words": re.compile(r"\bratio\b|\d:\d|\bproportion", re.IGNORECASE),
    "pronouns": re.compile(r"\b(?:he|she|they|his|her|their|it)\b", re.IGNORECASE),
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


def word_problem_features(text: str) -> dict[str, float]:
    """What makes an arithmetic word problem hard for a small model (counts, not logs)."""
    quantities = [float(q.replace(",", "")) for q in _QUANTITY.findall(text)]
    lower = text.lower()
    sentences = [s for s in _SENTENCE_SPLIT.split(text) if s.strip()]
    question = text.split("?")[0].split(".")[-1] if "?" in text else ""
    out = {
        "quantities": float(len(quantities)),
        "distinct_quantities": float(len(set(quantities))),
        "log_max_quantity": math.log10(1.0 + max(quantities, default=0.0)),
        "log_quantity_digits": math.log1p(sum(len(str(int(q))) for q in quantities)),
        "non_round_quantities": float(sum(1 for q in quantities if q % 5 != 0)),
        "decimal_quantities": float(sum(1 for q in quantities if q != int(q))),
        "large_quantities": float(sum(1 for q in quantities if q >= 1000)),
        "small_integers": float(sum(1 for q in quantities if q < 10 and q == int(q))),
        "percents": float(lower.count("%") + lower.count("percent")),
        "fractions": float(len(_FRACTION.findall(text))),
        "dollar_signs": float(text.count("$")),
        "sentences": float(max(1, len(sentences))),
        "sentences_without_numbers": float(sum(1 for s in sentences if not _DIGIT.search(s))),
        "question_words": float(len(question.split())),
        "question_marks": float(text.count("?")),
        "proper_names": float(len(set(_PROPER_NAME.findall(text[1:])))),
        "than_count": float(lower.count(" than ")),
        "of_the_count": float(lower.count(" of the ")),
        "each_count": float(lower.count("each")),
        "word_count": float(len(text.split())),
    }
    for name, pattern in _WORD_PROBLEM.items():
        out[name] = float(len(pattern.findall(text)))
    return out


NAMED_FEATURES: tuple[str, ...] = tuple(named_features("x"))
WORD_PROBLEM_FEATURES: tuple[str, ...] = tuple(word_problem_features("x"))


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


MIN_OPTION_LINES = 2


def is_multiple_choice(named: Mapping[str, float]) -> bool:
    """Two or more option lines ("A. …", "(b) …"): the ``choice`` family."""
    return named.get("options", 0.0) >= math.log1p(MIN_OPTION_LINES)


def extract(request: Request, *, word_problems: bool | None = None) -> Features:
    """The features of a request (a prompt string or chat messages).

    Word-problem features are computed for open prompts only (the multiple-choice model does
    not use them) unless ``word_problems`` says otherwise.
    """
    text, turns, system = request_text(request)
    named = named_features(text, turns, system)
    if word_problems if word_problems is not None else not is_multiple_choice(named):
        named.update(word_problem_features(text))
    return Features(named, hashed_ngrams(text))
