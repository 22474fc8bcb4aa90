"""Viber, end to end: an admin adds the sandbox's Viber bot with its auth token (Octopods
checks it with get_account_info and sets the bot's webhook, which Viber checks with a
signed callback), a customer writes, sends a sticker and a photo from the sandbox's phone,
all reach the sandbox's Intercom inbox, a teammate's reply reaches the phone, and the
customer's seen receipt shows it Read on the channel page. Once the customer has
unsubscribed, Viber refuses the bot's reply and the inbox says why, in plain words."""

import pytest
from playwright.sync_api import Page, expect

from sandbox.viber.directory import VIBER_BOTS

from .conftest import (
    add_channel,
    assert_no_csp_violations,
    customer_parts,
    log_row,
    open_inbox_conversation,
    open_phone,
    reload_until,
    reply_in_inbox,
    send_from_phone,
    set_signature,
)
from .test_story_round_trips import (
    SIGNATURE,
    TEAMMATE,
    WORKSPACE,
    connected_workspace,
    expect_photo_in_inbox,
    send_photo_from_phone,
)

pytestmark = pytest.mark.django_db(transaction=True)

BOT = VIBER_BOTS[0]
CUSTOMER = "Alex Kim"  # the phone's default Viber customer


def open_viber_page(page: Page, sandbox: str):
    """The customer's chat's Viber page, from the sandbox's index."""
    page.goto(f"{sandbox}/sandbox/")
    page.get_by_role("link", name="their chat's Viber page").click()
    page.get_by_role("link", name=CUSTOMER).click()
    expect(page.get_by_role("heading", name=f"{CUSTOMER} on Viber")).to_be_visible()


def test_a_viber_customer_gets_an_answer_and_reads_it(page: Page, sandbox, relay, console_errors):
    connected_workspace(page, sandbox)
    # The sandbox's index shows the fake bot's auth token to paste.
    page.goto(f"{sandbox}/sandbox/")
    bots = page.get_by_role("table", name="Fake Viber bots")
    expect(bots.get_by_role("row").filter(has_text=BOT.name)).to_contain_text(BOT.auth_token)
    page.go_back()

    channel_url = add_channel(page, "Viber", {"Auth token": BOT.auth_token})
    expect(page.get_by_text(BOT.name).first).to_be_visible()
    set_signature(page, SIGNATURE)

    phone_url = open_phone(page, sandbox, f"Viber: {BOT.name} (viber://pa?chatURI={BOT.uri})")
    send_from_phone(page, "hello")
    # A sticker, from the chat's Viber page (what only a Viber customer sends).
    open_viber_page(page, sandbox)
    page.get_by_role("button", name="Send a sticker").click()
    expect(page.get_by_role("status")).to_contain_text("Delivered to your webhook (200).")
    page.goto(phone_url)
    send_photo_from_phone(page, "my receipt")

    open_inbox_conversation(page, sandbox, WORKSPACE, CUSTOMER, "my receipt")
    inbox_url = page.url
    expect(customer_parts(page).filter(has_text="hello")).to_be_visible()
    expect_photo_in_inbox(page, "my receipt")
    expect_photo_in_inbox(page, "Sticker")

    reply_in_inbox(page, TEAMMATE, "Hi! How can we help?")
    page.goto(phone_url)
    reply = page.get_by_role("listitem").filter(has_text="Octopods:")
    reload_until(page, lambda: expect(reply).to_contain_text("Hi! How can we help?"))
    expect(reply).to_contain_text(f"— Ada Admin, {BOT.name}")

    page.goto(channel_url)
    outbound = log_row(page, "Hi! How can we help?")
    reload_until(
        page, lambda: expect(outbound.get_by_role("cell", name="Sent", exact=True)).to_be_visible()
    )

    # The customer reads it: Viber's seen callback, from the phone.
    page.goto(phone_url)
    page.get_by_role("button", name="Replies read").click()
    expect(page.get_by_role("status")).to_contain_text("Delivered to your webhook (200).")
    page.goto(channel_url)
    expect(log_row(page, "hello").get_by_role("cell", name="Inbound", exact=True)).to_be_visible()
    expect(outbound.get_by_role("cell", name="Read", exact=True)).to_be_visible()

    # The customer unsubscribes: Viber lets the bot write only to subscribers.
    open_viber_page(page, sandbox)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("status")).to_contain_text("Delivered to your webhook (200).")
    expect(page.get_by_text("Not subscribed")).to_be_visible()

    page.goto(inbox_url)
    reply_in_inbox(page, TEAMMATE, "Are you still there?")
    note = page.get_by_role("listitem").filter(has_text="Internal note by")
    reload_until(page, lambda: expect(note).to_contain_text("was not delivered on Viber"))
    expect(note).to_contain_text("not subscribed to the Viber bot")
    expect(note).to_contain_text("once they write to the bot again")

    page.goto(channel_url)
    failed = log_row(page, "Are you still there?")
    expect(failed.get_by_role("cell", name="Failed", exact=True)).to_be_visible()
    assert_no_csp_violations(console_errors)
