"""LINE, end to end: an admin adds a LINE Official Account with the sandbox's fake channel
access token and secret (Octopods checks them with LINE and sets its webhook, which LINE
tests), a customer sends a photo and a text from the sandbox's phone, both reach the
sandbox's Intercom inbox, and a teammate's answer reaches the phone as a push carrying
its retry key. LINE tells a bot nothing about delivery: the channel page shows the reply
Delivered as soon as LINE accepted it."""

import re

import pytest
from playwright.sync_api import Page, expect

from sandbox.line.directory import LINE_ACCOUNTS
from sandbox.models import Message

from .conftest import (
    add_channel,
    assert_no_csp_violations,
    customer_parts,
    log_row,
    open_phone,
    reload_until,
    reply_in_inbox,
    send_from_phone,
)
from .test_story_round_trips import TEAMMATE, WORKSPACE, connected_workspace

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNT = LINE_ACCOUNTS[0]


def open_inbox_conversation_by_text(page: Page, base: str, text: str):
    """LINE's webhook names no one (a name needs a profile call Octopods does not make):
    the inbox shows the contact by its id, so the conversation is found by its text."""
    page.goto(f"{base}/sandbox/intercom/inbox/")
    page.get_by_role("link", name=WORKSPACE, exact=True).click()
    row = page.get_by_role("row").filter(has_text=text)
    reload_until(page, lambda: expect(row).to_be_visible())
    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Answer as a teammate")).to_be_visible()


def test_a_line_customer_gets_an_answer_pushed_with_its_retry_key(
    page: Page, sandbox, relay, console_errors
):
    connected_workspace(page, sandbox)
    channel_url = add_channel(
        page,
        "LINE",
        {
            "Channel access token (long-lived)": ACCOUNT.channel_access_token,
            "Channel secret": ACCOUNT.channel_secret,
        },
    )

    phone_url = open_phone(page, sandbox, f"LINE: {ACCOUNT.display_name} ({ACCOUNT.basic_id})")
    # A LINE photo carries no words: the phone says so instead of offering a caption.
    expect(page.get_by_text("A LINE photo carries no words")).to_be_visible()
    page.get_by_role("button", name="Send the photo").click()
    expect(page.get_by_role("status")).to_contain_text("Delivered to your webhook (200).")
    send_from_phone(page, "hello from LINE")

    open_inbox_conversation_by_text(page, sandbox, "hello from LINE")
    inbox_url = page.url
    expect(customer_parts(page).filter(has_text="hello from LINE")).to_be_visible()
    # The photo, fetched from LINE's data API, shown through Octopods' signed link.
    photo = customer_parts(page).get_by_role("img", name=re.compile("^Attachment: "))
    expect(photo).to_be_visible()
    expect(photo).not_to_have_js_property("naturalWidth", 0)

    page.goto(inbox_url)
    reply_in_inbox(page, TEAMMATE, "Hi! How can we help?")

    page.goto(phone_url)
    reply = page.get_by_role("listitem").filter(has_text="Octopods:")
    reload_until(page, lambda: expect(reply).to_contain_text("Hi! How can we help?"))
    # Pushed with a retry key, so a retry after a timeout cannot deliver it twice.
    pushed = Message.objects.get(direction=Message.Direction.OUT, text="Hi! How can we help?")
    assert re.fullmatch(r"[0-9a-f-]{36}", pushed.detail["retry_key"])

    page.goto(channel_url)
    outbound = log_row(page, "Hi! How can we help?")
    delivered = outbound.get_by_role("cell", name="Delivered", exact=True)
    reload_until(page, lambda: expect(delivered).to_be_visible())
    expect(outbound.get_by_role("cell", name="Outbound", exact=True)).to_be_visible()
    inbound = log_row(page, "hello from LINE")
    expect(inbound.get_by_role("cell", name="Inbound", exact=True)).to_be_visible()
    assert_no_csp_violations(console_errors)


def test_a_reply_past_the_monthly_push_allowance_is_explained_to_the_agent(
    page: Page, sandbox, relay, console_errors
):
    account = LINE_ACCOUNTS[1]  # the sandbox's account whose plan allows one push a month
    connected_workspace(page, sandbox)
    channel_url = add_channel(
        page,
        "LINE",
        {
            "Channel access token (long-lived)": account.channel_access_token,
            "Channel secret": account.channel_secret,
        },
    )
    open_phone(page, sandbox, f"LINE: {account.display_name} ({account.basic_id})")
    send_from_phone(page, "is my order on its way?")

    open_inbox_conversation_by_text(page, sandbox, "is my order on its way?")
    inbox_url = page.url
    reply_in_inbox(page, TEAMMATE, "Yes, it ships today.")
    page.goto(channel_url)
    first = log_row(page, "Yes, it ships today.")
    reload_until(
        page,
        lambda: expect(first.get_by_role("cell", name="Delivered", exact=True)).to_be_visible(),
    )

    page.goto(inbox_url)
    reply_in_inbox(page, TEAMMATE, "Tracking number follows.")
    note = page.get_by_role("listitem").filter(has_text="Internal note by")
    reload_until(page, lambda: expect(note).to_contain_text("used up the messages its plan allows"))
    expect(note).to_contain_text("(1 of 1 sent)")
    expect(note).to_contain_text("every one counts against that monthly allowance")

    page.goto(channel_url)
    refused = log_row(page, "Tracking number follows.")
    expect(refused.get_by_role("cell", name="Failed", exact=True)).to_be_visible()
    assert_no_csp_violations(console_errors)
