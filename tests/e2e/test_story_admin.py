"""The admin's whole story, offline, as a person clicks through it: sign up, connect the
sandbox's Intercom workspace, add a Telegram channel, and answer a customer who writes
from the sandbox's customer phone, with the relay running as ``scripts/run`` runs it."""

import pytest
from playwright.sync_api import Page, expect

from sandbox.telegram.directory import TELEGRAM_BOTS

from .conftest import (
    add_channel,
    assert_no_csp_violations,
    customer_parts,
    expect_green,
    log_row,
    open_inbox_conversation,
    open_phone,
    reload_until,
    reply_in_inbox,
    send_from_phone,
    set_signature,
    sign_up,
)
from .test_connect import connect_intercom

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "founder@acme.test"
WORKSPACE = "Acme Support"  # the sandbox's Intercom workspace sbx-acme
CUSTOMER = "Jane Doe"  # the phone's default Telegram customer
TEAMMATE = "Ada Admin (ada@acme.example)"


def test_an_admin_signs_up_connects_intercom_and_answers_a_telegram_customer(
    page: Page, sandbox, relay, mailoutbox, console_errors
):
    bot = TELEGRAM_BOTS[0]
    sign_up(page, sandbox, mailoutbox, account="Acme Support", email=EMAIL)
    expect(page).to_have_url(f"{sandbox}/")
    expect(page.get_by_role("heading", name="Thanks for signing up!")).to_be_visible()
    expect(page.get_by_text("Step 1 of 2")).to_be_visible()

    connect_intercom(page, WORKSPACE)
    expect(page.get_by_text(f"{WORKSPACE} is connected.")).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=WORKSPACE))
    expect(row.get_by_role("cell", name="Intercom", exact=True)).to_be_visible()
    expect(row.get_by_role("cell", name=EMAIL, exact=True)).to_be_visible()
    expect_green(row.get_by_text("Active", exact=True))

    row.get_by_role("link", name=WORKSPACE).click()
    expect(page.get_by_text("Step 2 of 2")).to_be_visible()
    channel_url = add_channel(page, "Telegram", {"Bot token": bot.token})
    channel_name = f"@{bot.username}"
    set_signature(page, "— {agent_name}, {channel_name}")

    phone_url = open_phone(page, sandbox, f"Telegram: {bot.first_name} (@{bot.username})")
    send_from_phone(page, "hello")

    open_inbox_conversation(page, sandbox, WORKSPACE, CUSTOMER, "hello")
    expect(page.get_by_role("definition").first).to_contain_text("Lead")
    expect(page.get_by_text(channel_name, exact=True)).to_be_visible()  # the channel's tag
    expect(customer_parts(page)).to_contain_text("hello")
    reply_in_inbox(page, TEAMMATE, "Hi! How can we help?")

    page.goto(phone_url)
    reply = page.get_by_role("listitem").filter(has_text="Octopods:")
    reload_until(page, lambda: expect(reply).to_contain_text("Hi! How can we help?"))
    expect(reply).to_contain_text(f"— Ada Admin, {channel_name}")

    page.goto(channel_url)
    inbound, outbound = log_row(page, "hello"), log_row(page, "Hi! How can we help?")
    expect(inbound.get_by_role("cell", name="Inbound", exact=True)).to_be_visible()
    expect(outbound.get_by_role("cell", name="Outbound", exact=True)).to_be_visible()
    # The phone had the reply the moment Telegram took it; its status follows in a moment.
    delivered = outbound.get_by_role("cell", name="Delivered", exact=True)
    reload_until(page, lambda: expect(delivered).to_be_visible())
    assert_no_csp_violations(console_errors)
