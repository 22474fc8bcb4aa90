"""A teammate writes first from the Octopods panel beside a conversation in the sandbox's
Intercom inbox: on WhatsApp inside the 24-hour window, previewing exactly what the
customer will get and following the message to Delivered, then opening the same panel
on the customer's contact page; by SMS to a customer found by e-mail, opening the
Intercom conversation their answer then joins; and from one of the SMS line's saved
texts, a value left empty refused before it is filled in and sent."""

import pytest
from playwright.sync_api import Page, expect

from sandbox.meta.directory import META_APP, WHATSAPP_NUMBERS
from sandbox.models import IntercomContact
from sandbox.twilio.directory import TWILIO_ACCOUNTS

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

    # Intercom also shows the app on the customer's own page: no conversation there,
    # the same customer to write to, and the message just sent in their history.
    page.get_by_role("heading", level=1).get_by_role("link", name=customer).click()
    expect(page.get_by_role("heading", name=customer, level=1)).to_be_visible()
    expect(page.get_by_role("region", name="Conversations").get_by_role("link")).to_have_count(1)
    panel.get_by_role("button", name="Open the Octopods app").click()
    expect(panel.get_by_role("heading", name="Send a proactive message")).to_be_visible()
    expect(panel).not_to_contain_text("window open until")
    panel.get_by_role("button", name=f"Send to {customer}").click()
    panel.get_by_role("button", name=f"WhatsApp · {number.verified_name}").click()
    expect(panel.get_by_label("Write your message (500 characters at most)")).to_be_visible()
    panel.get_by_role("button", name="Back").click()
    expect(panel.get_by_role("heading", name=f"Message {customer}")).to_be_visible()
    assert_no_csp_violations(console_errors)


def sms_line(page: Page, sandbox: str):
    """A connected workspace with the sandbox's first Twilio number added; returns it."""
    account = TWILIO_ACCOUNTS[0]
    number = account.numbers[0]
    connected_workspace(page, sandbox)
    add_channel(
        page,
        "SMS",
        {
            "Account SID": account.account_sid,
            "Auth Token": account.auth_token,
            "Twilio phone number": number.phone_number,
        },
    )
    return number


def test_an_sms_to_a_customer_found_by_email_opens_the_conversation_their_answer_joins(
    page: Page, sandbox, relay, console_errors
):
    number = sms_line(page, sandbox)
    phone_url = open_phone(
        page, sandbox, f"Twilio SMS: {number.friendly_name} ({number.phone_number})"
    )
    send_from_phone(page, "hello")
    open_inbox_conversation(page, sandbox, WORKSPACE, "+15557654321", "hello")
    # Someone on the team filled in who the number belongs to, in Intercom.
    IntercomContact.objects.filter(workspace="sbx-acme", phone="+15557654321").update(
        name="Pat Jones", email="pat@example.com"
    )

    panel = page.get_by_role("region", name="Octopods (inbox app)")
    panel.get_by_role("button", name="Open the Octopods app").click()
    panel.get_by_label("Or find a customer").fill("pat@example.com")
    panel.get_by_role("button", name="Search").click()
    panel.get_by_role("button", name="Pat Jones (pat@example.com · +15557654321)").click()
    panel.get_by_role("button", name=f"SMS · {number.friendly_name}").click()
    panel.get_by_label("Write your message (500 characters at most)").fill(
        "Your appointment on Monday is confirmed."
    )
    panel.get_by_role("button", name="Preview").click()
    panel.get_by_role("button", name="Send & open conversation").click()
    expect(panel).to_contain_text("An Intercom conversation was opened")

    page.goto(phone_url)
    sent = page.get_by_role("listitem").filter(has_text="Your appointment on Monday")
    reload_until(page, lambda: expect(sent).to_be_visible())
    send_from_phone(page, "Thanks, see you then!")

    # Two conversations now: the one "hello" opened, and the one the send opened, which
    # the answer joins.
    page.goto(f"{sandbox}/sandbox/intercom/inbox/")
    page.get_by_role("link", name=WORKSPACE, exact=True).click()
    row = page.get_by_role("row").filter(has_text="Thanks, see you then!")
    reload_until(page, lambda: expect(row).to_contain_text(number.friendly_name))
    row.get_by_role("link", name="Pat Jones").click()
    thread = page.get_by_role("list").filter(has_text="Thanks, see you then!")
    expect(thread).to_contain_text("Your appointment on Monday is confirmed.")
    expect(thread).to_contain_text("Ada Admin (teammate)")
    expect(thread).not_to_contain_text("hello")
    assert_no_csp_violations(console_errors)


def test_a_saved_text_of_the_sms_line_is_filled_in_and_sent_from_the_panel(
    page: Page, sandbox, relay, console_errors
):
    number = sms_line(page, sandbox)
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Add template").click()
    page.get_by_label("Name").fill("Appointment")
    page.get_by_label("Language").fill("en")
    page.get_by_label("Text").fill("Hi {{1}}, your appointment is on {{2}}.")
    page.get_by_role("button", name="Add template").click()
    expect(page.get_by_role("cell", name="Hi {{1}}, your appointment is on {{2}}.")).to_be_visible()
    phone_url = open_phone(
        page, sandbox, f"Twilio SMS: {number.friendly_name} ({number.phone_number})"
    )
    send_from_phone(page, "hello")
    open_inbox_conversation(page, sandbox, WORKSPACE, "+15557654321", "hello")

    panel = page.get_by_role("region", name="Octopods (inbox app)")
    panel.get_by_role("button", name="Open the Octopods app").click()
    panel.get_by_role("button", name="Send to +15557654321").click()
    panel.get_by_role("button", name=f"SMS · {number.friendly_name}").click()
    panel.get_by_role("button", name="Appointment (en)").click()
    expect(panel.get_by_role("heading", name="Saved text Appointment")).to_be_visible()
    expect(panel.get_by_label("{{1}}")).to_have_value("")
    panel.get_by_label("{{1}}").fill("Pat")
    panel.get_by_role("button", name="Preview").click()
    expect(panel.get_by_role("alert")).to_have_text(
        "{{2}} is empty: fill in every value. Nothing was sent."
    )
    expect(panel.get_by_label("{{1}}")).to_have_value("Pat")
    panel.get_by_label("{{2}}").fill("Monday at 10:00")
    panel.get_by_role("button", name="Preview").click()
    expect(panel.get_by_role("heading", name="Preview")).to_be_visible()
    expect(panel).to_contain_text("Hi Pat, your appointment is on Monday at 10:00.")
    panel.get_by_role("button", name="Send", exact=True).click()
    expect(panel.get_by_role("heading", name="Sending…")).to_be_visible()

    page.goto(phone_url)
    sent = page.get_by_role("listitem").filter(has_text="Hi Pat, your appointment")
    reload_until(page, lambda: expect(sent).to_contain_text("on Monday at 10:00."))
    assert_no_csp_violations(console_errors)
