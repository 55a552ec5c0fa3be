"""A free self-check of an answer: the judge of the cascade (``auto:cascade``).

It costs no model call. It rejects an answer that is empty, was cut off by the token limit,
stops inside a calculator annotation (``<<3*4=``), or shows arithmetic that is wrong — either
in a calculator annotation ``<<60*3=180>>`` or in a written equation ``60 * 3 = 170``. Small
models make exactly these mistakes on word problems; a wrong sum is a cheap, reliable sign that
the final answer is wrong too. Pure functions, no I/O.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable

_ANNOTATION = re.compile(r"<<([^<>=]+)=([^<>]+)>>")
_NUMBER = r"\$?\d[\d,]*(?:\.\d+)?%?"
# A spaced minus only: "2020-2021" and "5-7 days" are ranges, not subtractions.
_OPERATOR = r"(?:\s*[+*/×]\s*|\s+-\s+)"
_EQUATION = re.compile(
    rf"((?:{_NUMBER}{_OPERATOR})+{_NUMBER})\s*=\s*({_NUMBER})(?!\d|{_OPERATOR}\d)")
_OPS: dict[type, Callable[..., float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.USub: operator.neg, ast.UAdd: operator.pos,
}
_MAX_EXPRESSION = 200  # characters; longer "expressions" are prose, not arithmetic


def _value(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(
            node.value, bool):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_value(node.left), _value(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_value(node.operand))
    raise ValueError("not plain arithmetic")


def evaluate(expression: str) -> float | None:
    """The value of plain arithmetic (+ - * / and parentheses), else None. Never runs code."""
    text = expression.replace(",", "").replace("$", "").replace("×", "*").strip()
    if not text or len(text) > _MAX_EXPRESSION or "%" in text:
        return None
    try:
        return _value(ast.parse(text, mode="eval").body)
    except (SyntaxError, ValueError, ZeroDivisionError, OverflowError, RecursionError):
        return None


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "").replace("$", "").strip())
    except ValueError:
        return None


def _wrong(actual: float, claimed: float) -> bool:
    # Rounded results ("= 3.33", "= 33") are fine; anything further off is an error.
    tolerance = max(0.011, 0.005 * abs(actual))
    return abs(actual - claimed) > tolerance and abs(round(actual) - claimed) > 0.0


def arithmetic_errors(text: str) -> list[str]:
    """Each wrong calculation in ``text`` once, as "60*3 = 170 (is 180)"."""
    out: list[str] = []
    for match in _ANNOTATION.finditer(text):
        actual, claimed = evaluate(match.group(1)), _number(match.group(2))
        if actual is not None and claimed is not None and _wrong(actual, claimed):
            out.append(f"{match.group(1).strip()} = {match.group(2).strip()} (is {actual:g})")
    prose = _ANNOTATION.sub(" ", text)
    for match in _EQUATION.finditer(prose):
        left, right = match.group(1), match.group(2)
        if "%" in left or "%" in right:
            continue
        actual, claimed = evaluate(left), _number(right)
        if actual is not None and claimed is not None and _wrong(actual, claimed):
            out.append(f"{left.strip()} = {right.strip()} (is {actual:g})")
    seen: set[str] = set()
    unique = []
    for item in out:
        key = item.replace(" ", "")
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def inadequacy(text: str, finish_reason: str | None = None) -> str | None:
    """Why an answer looks inadequate, or None when the self-check finds nothing."""
    if not text.strip():
        return "the answer is empty"
    if finish_reason == "length":
        return "the answer was cut off by the token limit"
    if text.count("<<") > text.count(">>"):
        return "the answer stops inside a calculation"
    errors = arithmetic_errors(text)
    if errors:
        return "wrong arithmetic: " + "; ".join(errors[:3])
    return None
