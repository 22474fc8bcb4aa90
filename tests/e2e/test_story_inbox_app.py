"""A teammate writes first from the Octopods panel: a WhatsApp customer's conversation is
open in the sandbox's Intercom inbox, the teammate opens the Octopods app beside it,
sees the 24-hour window open, writes, previews exactly what the customer will get,
sends, and follows the message to Sent on the panel while the customer's phone shows
it."""

import pytest
from playwright.sync_api import Page, expect

from sandbox.directory import META_APP, WHATSAPP_NUMBERS

from .conftest import (
    add_channel,
    assert_no_csp_violations,
    open_inbox_conversation,
    open_phone,
    reload_until,
    send_from_phone,
    set_signature,
)
from .test_story_round_trips import WORKSPACE, connected_workspace

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_teammate_sends_a_proactive_whatsapp_message_from_the_panel(
    page: Page, sandbox, relay, console_errors
):
    number = WHATSAPP_NUMBERS[0]
    customer = "Kerry Fisher"  # the phone's default WhatsApp customer
    connected_workspace(page, sandbox)
    add_channel(
        page,
        "WhatsApp",
        {
            "Phone number ID": number.phone_number_id,
            "WhatsApp Business Account ID": number.waba_id,
            "Access token": number.access_token,
            "App secret": META_APP.app_secret,
        },
    )
    set_signature(page, "— {agent_name}")
    phone_url = open_phone(
        page, sandbox, f"WhatsApp: {number.verified_name} ({number.display_phone_number})"
    )
    send_from_phone(page, "hello")
    open_inbox_conversation(page, sandbox, WORKSPACE, customer, "hello")

    panel = page.get_by_role("region", name="Octopods (inbox app)")
    panel.get_by_role("button", name="Open the Octopods app").click()
    expect(panel.get_by_role("heading", name="Send a proactive message")).to_be_visible()
    expect(panel).to_contain_text("WhatsApp window open until")
    panel.get_by_role("button", name=f"Send to {customer}").click()
    panel.get_by_role("button", name=f"WhatsApp · {number.verified_name}").click()
    panel.get_by_label("Write your message (500 characters at most)").fill(
        "Your parcel left our warehouse today."
    )
    panel.get_by_role("button", name="Preview").click()
    expect(panel.get_by_role("heading", name="Preview")).to_be_visible()
    expect(panel).to_contain_text("Your parcel left our warehouse today.")
    expect(panel).to_contain_text("— Ada Admin")
    panel.get_by_role("button", name="Send", exact=True).click()
    expect(panel.get_by_role("heading", name="Sending…")).to_be_visible()

    def sent():
        panel.get_by_role("button", name="Refresh").click()
        expect(panel.get_by_role("heading", name="Message sent!")).to_be_visible()

    reload_until(page, sent)
    inbox_url = page.url

    page.goto(phone_url)
    message = page.get_by_role("listitem").filter(has_text="Your parcel left")
    reload_until(page, lambda: expect(message).to_contain_text("— Ada Admin"))
    page.get_by_role("button", name="Replies delivered").click()
    expect(page.get_by_role("status")).to_contain_text("Delivered to your webhook (200).")

    page.goto(inbox_url)
    panel.get_by_role("button", name="Refresh").click()
    expect(panel).to_contain_text("Status: Delivered")
    assert_no_csp_violations(console_errors)
