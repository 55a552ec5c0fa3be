"""Quality validators accept and reject exactly what they say."""

from __future__ import annotations

import pytest

from modelrouter.adapters.base import Response, ToolCall
from modelrouter.catalog.pricing import Usage
from modelrouter.errors import ConfigError, ValidationFailedError
from modelrouter.routing import validators as v


def answer(text: str, tool: bool = False) -> Response:
    calls = (ToolCall("1", "f", "{}"),) if tool else ()
    return Response(text=text, finish_reason="stop", usage=Usage(1, 1), tool_calls=calls)


SCHEMA = {"type": "object", "required": ["answer"], "properties": {"answer": {"type": "string"}}}


@pytest.mark.parametrize(
    ("validator", "text", "problem"),
    [
        (v.non_empty(), "  ", "empty"),
        (v.non_empty(), "ok", None),
        (v.valid_json(), '{"a": 1}', None),
        (v.valid_json(), '```json\n{"a": 1}\n```', None),
        (v.valid_json(), '{"a": ', "not valid JSON"),
        (v.json_schema(SCHEMA), '{"answer": "x"}', None),
        (v.json_schema(SCHEMA), '{"answer": 3}', "at answer: 3 is not of type 'string'"),
        (v.json_schema(SCHEMA), "{}", "(root): 'answer' is a required property"),
        (v.regex(r"^\d+$"), "42", None),
        (v.regex(r"^\d+$"), "forty-two", r"does not match /^\d+$/"),
        (v.length(3, 5), "ab", "fewer than the minimum 3"),
        (v.length(3, 5), "abcdef", "more than the maximum 5"),
        (v.length(3, 5), "abcd", None),
        (v.custom(lambda r: "yes" in r.text, "says_yes"), "no", "rejected by the custom check"),
        (v.custom(lambda r: None if r.text else "blank"), "", "blank"),
    ],
)
def test_validators(validator: v.Validator, text: str, problem: str | None) -> None:
    reason = validator.check(answer(text))
    if problem is None:
        assert reason is None
        validator.validate(answer(text))
    else:
        assert reason is not None and problem in reason
        with pytest.raises(ValidationFailedError) as info:
            validator.validate(answer(text))
        assert info.value.validator == validator.name


def test_tool_call_answer_is_not_empty() -> None:
    assert v.non_empty().check(answer("", tool=True)) is None


def test_bad_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="invalid regex"):
        v.regex("(")
    with pytest.raises(ConfigError, match="invalid JSON schema"):
        v.json_schema({"type": 12})
    with pytest.raises(ConfigError, match="unknown validator kind"):
        v.from_settings("vibes", "x", {})
    assert v.from_settings("length", "short", {"max_chars": 3}).check(answer("abcd"))
