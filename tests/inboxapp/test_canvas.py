"""The screens as pure functions: what each shows from plain values."""

import json
from datetime import UTC, datetime

from inboxapp import canvas
from inboxapp.canvas import ChannelOption, Recipient, Window


def texts(response: dict) -> list[str]:
    return [c.get("text", "") for c in response["canvas"]["content"]["components"]]


def test_a_name_never_becomes_markdown_of_ours():
    evil = Recipient(name="[Click me](https://evil.example) **now**")

    response = canvas.channels(recipient=evil, options=[])

    assert texts(response)[0] == r"Message \[Click me\]\(https://evil.example\) \*\*now\*\*"


def test_the_window_line_says_until_when():
    until = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)

    assert canvas.window_line("WhatsApp", Window(open=True, until=until)) == (
        "WhatsApp window open until Mon 7 Dec, 09:30 UTC."
    )
    assert canvas.window_line("Messenger", Window(open=False, until=until)) == (
        "Messenger window closed since Mon 7 Dec, 09:30 UTC."
    )


def test_whatsapp_with_a_closed_window_takes_no_free_text_but_others_do():
    closed = Window(open=False, until=None)

    assert not ChannelOption(1, "whatsapp", "WhatsApp", "n", closed).free_text
    assert ChannelOption(2, "messenger", "Messenger", "p", closed).free_text
    assert ChannelOption(3, "sms", "SMS", "t").free_text


def test_a_screen_that_would_pass_64_kb_says_so_instead():
    screen = canvas.Screen().text("x" * (65 * 1024))

    response = screen.response()

    assert "too large for Intercom to show" in json.dumps(response)
    assert len(json.dumps(response)) < 1024
