"""Offline token estimates: close to real counts and rarely low."""

from __future__ import annotations

import pytest

from modelrouter.routing.tokens import IMAGE_TOKENS, count_message_tokens, count_text_tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("hi", 1),
        ("Hello, world!", 4),  # 13 chars → 4; 2 words → 3
        ("The quick brown fox jumps over the lazy dog.", 11),  # 44/4 = 11; 9 words × 1.3
        ("a " * 100, 130),  # words dominate for short words
        ("x" * 400, 100),
    ],
)
def test_count_text_tokens(text: str, expected: int) -> None:
    assert count_text_tokens(text) == expected


def test_dense_scripts_count_higher() -> None:
    text = "これは日本語のテキストです。" * 10
    assert count_text_tokens(text) >= len(text) // 2


def test_messages_tools_and_images() -> None:
    plain = count_message_tokens([{"role": "user", "content": "Hello, world!"}])
    assert plain == 3 + 4 + 4
    image = count_message_tokens([{"role": "user", "content": [
        {"type": "text", "text": "Hello, world!"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
    ]}])
    assert image == plain + IMAGE_TOKENS
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    assert count_message_tokens([{"role": "user", "content": "Hello, world!"}], tools) > plain
    calls = count_message_tokens([{"role": "assistant", "content": None, "tool_calls": [
        {"id": "1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}]}])
    assert calls > 3 + 4
