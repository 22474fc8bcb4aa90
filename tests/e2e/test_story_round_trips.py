"""The same round trip on WhatsApp and on SMS: a customer writes and sends a photo from
the sandbox's phone, it reaches the sandbox's Intercom inbox, a teammate answers, the
phone shows the signed reply and the provider's receipt marks it Delivered. On WhatsApp a
reply after the 24-hour window fails and the inbox says why."""

import re

import pytest
from playwright.sync_api import Page, expect

from sandbox.meta.directory import META_APP, WHATSAPP_NUMBERS
from sandbox.twilio.directory import TWILIO_ACCOUNTS

from .conftest import (
    add_channel,
    admin_of,
    assert_no_csp_violations,
    customer_parts,
    log_row,
    open_inbox_conversation,
    open_phone,
    reload_until,
    reply_in_inbox,
    send_from_phone,
    set_signature,
    sign_in,
)
from .test_connect import connect_intercom

pytestmark = pytest.mark.django_db(transaction=True)

WORKSPACE = "Acme Support"  # the sandbox's Intercom workspace sbx-acme
TEAMMATE = "Ada Admin (ada@acme.example)"
SIGNATURE = "— {agent_name}, {channel_name}"


def connected_workspace(page: Page, base: str):
    """An admin of a fresh account, signed in, with the sandbox's workspace connected
    and open."""
    admin_of("Acme Support", "admin@acme.test")
    sign_in(page, base, "admin@acme.test")
    connect_intercom(page, WORKSPACE)
    page.get_by_role("link", name=WORKSPACE).click()
    expect(page.get_by_text("Step 2 of 2")).to_be_visible()


def send_photo_from_phone(page: Page, caption: str):
    page.get_by_label("Caption").fill(caption)
    page.get_by_role("button", name="Send the photo").click()
    expect(page.get_by_role("status")).to_contain_text("(200)")


def expect_photo_in_inbox(page: Page, caption: str):
    part = customer_parts(page).filter(has_text=caption)
    photo = part.get_by_role("img", name=re.compile("^Attachment: "))
    expect(photo).to_be_visible()
    # The inbox shows the picture itself, fetched through Octopods' signed link.
    expect(photo).not_to_have_js_property("naturalWidth", 0)


def answer_and_see_it_delivered(
    page: Page, *, inbox_url: str, phone_url: str, channel_url: str, signed: str
):
    page.goto(inbox_url)
    reply_in_inbox(page, TEAMMATE, "Hi! How can we help?")

    page.goto(phone_url)
    reply = page.get_by_role("listitem").filter(has_text="Octopods:")
    reload_until(page, lambda: expect(reply).to_contain_text("Hi! How can we help?"))
    expect(reply).to_contain_text(signed)

    page.goto(channel_url)
    outbound = log_row(page, "Hi! How can we help?")
    sent = outbound.get_by_role("cell", name="Sent", exact=True)
    reload_until(page, lambda: expect(sent).to_be_visible())

    # The provider's delivery receipt, from the customer's phone.
    page.goto(phone_url)
    page.get_by_role("button", name="Replies delivered").click()
    expect(page.get_by_role("status")).to_contain_text("Delivered to your webhook (200).")

    page.goto(channel_url)
    expect(log_row(page, "hello").get_by_role("cell", name="Inbound", exact=True)).to_be_visible()
    expect(outbound.get_by_role("cell", name="Outbound", exact=True)).to_be_visible()
    expect(outbound.get_by_role("cell", name="Delivered", exact=True)).to_be_visible()


def test_a_whatsapp_customer_gets_an_answer_and_a_late_reply_is_explained(
    page: Page, sandbox, relay, console_errors
):
    number = WHATSAPP_NUMBERS[0]
    customer = "Kerry Fisher"  # the phone's default WhatsApp customer
    connected_workspace(page, sandbox)
    channel_url = add_channel(
        page,
        "WhatsApp",
        {
            "Phone number ID": number.phone_number_id,
            "WhatsApp Business Account ID": number.waba_id,
            "Access token": number.access_token,
            "App secret": META_APP.app_secret,
        },
    )
    set_signature(page, SIGNATURE)

    phone_url = open_phone(
        page, sandbox, f"WhatsApp: {number.verified_name} ({number.display_phone_number})"
    )
    send_from_phone(page, "hello")
    send_photo_from_phone(page, "my receipt")

    open_inbox_conversation(page, sandbox, WORKSPACE, customer, "my receipt")
    inbox_url = page.url
    expect(page.get_by_role("definition").first).to_contain_text("Lead")
    expect(customer_parts(page).filter(has_text="hello")).to_be_visible()
    expect_photo_in_inbox(page, "my receipt")

    answer_and_see_it_delivered(
        page,
        inbox_url=inbox_url,
        phone_url=phone_url,
        channel_url=channel_url,
        signed=f"— Ada Admin, {number.verified_name}",
    )

    # A day later the window is closed: WhatsApp takes templates only.
    page.goto(phone_url)
    page.get_by_role("button", name="Pretend 25 hours have passed").click()
    expect(page.get_by_text("The 24-hour window is closed")).to_be_visible()
    page.goto(inbox_url)
    reply_in_inbox(page, TEAMMATE, "Are you still there?")
    note = page.get_by_role("listitem").filter(has_text="Internal note by")
    reload_until(page, lambda: expect(note).to_contain_text("was not delivered on WhatsApp"))
    expect(note).to_contain_text("within 24 hours of the customer's last message")
    expect(note).to_contain_text("Send a template from the Octopods panel")

    page.goto(channel_url)
    failed = log_row(page, "Are you still there?")
    expect(failed.get_by_role("cell", name="Failed", exact=True)).to_be_visible()
    expect(failed).to_contain_text("within 24 hours")
    assert_no_csp_violations(console_errors)


def test_an_sms_customer_gets_an_answer(page: Page, sandbox, relay, console_errors):
    account = TWILIO_ACCOUNTS[0]
    number = account.numbers[0]
    customer = "+15557654321"  # the phone's default SMS customer: a number, no name
    connected_workspace(page, sandbox)
    channel_url = add_channel(
        page,
        "SMS",
        {
            "Account SID": account.account_sid,
            "Auth Token": account.auth_token,
            "Twilio phone number": number.phone_number,
        },
    )
    set_signature(page, SIGNATURE)

    phone_url = open_phone(
        page, sandbox, f"Twilio SMS: {number.friendly_name} ({number.phone_number})"
    )
    send_from_phone(page, "hello")
    send_photo_from_phone(page, "my receipt")

    open_inbox_conversation(page, sandbox, WORKSPACE, customer, "my receipt")
    inbox_url = page.url
    expect(page.get_by_role("definition").first).to_contain_text("Lead")
    expect(customer_parts(page).filter(has_text="hello")).to_be_visible()
    expect_photo_in_inbox(page, "my receipt")

    answer_and_see_it_delivered(
        page,
        inbox_url=inbox_url,
        phone_url=phone_url,
        channel_url=channel_url,
        signed=f"— Ada Admin, {number.friendly_name}",
    )
    assert_no_csp_violations(console_errors)
