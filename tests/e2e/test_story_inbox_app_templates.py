"""A teammate sends an approved WhatsApp template from the Octopods panel once the
customer's 24-hour window has closed: picked from the number's templates, filled in,
previewed exactly as the customer will see it, followed to Delivered and Read, and
answered. And a template Meta paused after Octopods offered it fails with its reason
shown in the panel, while one already paused is never offered."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from channels.models import Direction, Message
from sandbox.meta import whatsapp_templates
from sandbox.meta.directory import META_APP, WHATSAPP_NUMBERS
from sandbox.models import Conversation as PhoneConversation

from .conftest import (
    add_channel,
    assert_no_csp_violations,
    customer_parts,
    open_inbox_conversation,
    open_phone,
    reload_until,
    send_from_phone,
)
from .test_story_round_trips import WORKSPACE, connected_workspace

pytestmark = pytest.mark.django_db(transaction=True)

NUMBER = WHATSAPP_NUMBERS[0]
CUSTOMER = "Kerry Fisher"  # the phone's default WhatsApp customer
CHANNEL_BUTTON = f"WhatsApp · {NUMBER.verified_name}"
PHOTO = "https://cdn.acme.test/parcel.jpg"


@pytest.fixture
def meta_restored():
    yield
    whatsapp_templates.status_set(NUMBER.waba_id, "order_shipped", None)


def customer_wrote_25_hours_ago(page: Page, sandbox: str):
    """A WhatsApp channel whose customer said hello 25 hours ago (by Octopods' own
    records, which decide the window; the sandbox's phone is moved back too); returns
    the phone's URL, with the teammate's panel open on the conversation."""
    connected_workspace(page, sandbox)
    add_channel(
        page,
        "WhatsApp",
        {
            "Phone number ID": NUMBER.phone_number_id,
            "WhatsApp Business Account ID": NUMBER.waba_id,
            "Access token": NUMBER.access_token,
            "App secret": META_APP.app_secret,
        },
    )
    expect(page.get_by_text("order_shipped")).to_be_visible()  # synced when added
    phone_url = open_phone(
        page, sandbox, f"WhatsApp: {NUMBER.verified_name} ({NUMBER.display_phone_number})"
    )
    send_from_phone(page, "hello")
    open_inbox_conversation(page, sandbox, WORKSPACE, CUSTOMER, "hello")
    then = timezone.now() - timedelta(hours=25)
    assert Message.objects.filter(direction=Direction.INBOUND).update(created_at=then, sent_at=then)
    PhoneConversation.objects.filter(kind="whatsapp").update(last_customer_message_at=then)
    return phone_url


def open_templates(page: Page):
    panel = page.get_by_role("region", name="Octopods (inbox app)")
    panel.get_by_role("button", name="Open the Octopods app").click()
    expect(panel).to_contain_text("WhatsApp window closed since")
    panel.get_by_role("button", name=f"Send to {CUSTOMER}").click()
    panel.get_by_role("button", name=CHANNEL_BUTTON).click()
    expect(panel).to_contain_text("only an approved template can be sent now")
    expect(panel.get_by_label("Write your message (500 characters at most)")).to_have_count(0)
    return panel


def fill_order_shipped(panel):
    panel.get_by_role("button", name="order_shipped (en_US)").click()
    expect(panel.get_by_role("heading", name="Template order_shipped")).to_be_visible()
    expect(panel).to_contain_text("Footer: Acme Support")
    expect(panel).to_contain_text("Button: Where is it?")
    panel.get_by_label("Header image (https:// link)").fill(PHOTO)
    panel.get_by_label("Body {{1}}").fill("Kerry")
    panel.get_by_label("Body {{2}}").fill("#1042")
    panel.get_by_role("button", name="Preview").click()
    expect(panel.get_by_role("heading", name="Preview")).to_be_visible()
    expect(panel).to_contain_text(f"[image: {PHOTO}]")
    expect(panel).to_contain_text("Hi Kerry, your order #1042 is on its way.")


def fill_delivery_update(panel):
    """An image header and two named variables, the customer's first name filled in
    from the Intercom contact."""
    panel.get_by_role("button", name="delivery_update (en_US)").click()
    expect(panel.get_by_role("heading", name="Template delivery_update")).to_be_visible()
    expect(panel).to_contain_text("Footer: Acme Support")
    expect(panel.get_by_label("Body {{first_name}}")).to_have_value("Kerry")
    panel.get_by_label("Header image (https:// link)").fill(PHOTO)
    panel.get_by_label("Body {{tracking_code}}").fill("AC-2001")
    panel.get_by_role("button", name="Preview").click()
    expect(panel.get_by_role("heading", name="Preview")).to_be_visible()
    expect(panel).to_contain_text(f"[image: {PHOTO}]")
    expect(panel).to_contain_text("Hi Kerry, parcel AC-2001 arrives tomorrow.")


def test_a_teammate_sends_a_template_after_the_window_closed_and_follows_it_to_read(
    page: Page, sandbox, relay, console_errors
):
    phone_url = customer_wrote_25_hours_ago(page, sandbox)
    inbox_url = page.url

    panel = open_templates(page)
    for hidden in ("winback_offer", "miracle_cure"):
        expect(panel).not_to_contain_text(hidden)
    fill_delivery_update(panel)
    panel.get_by_role("button", name="Send", exact=True).click()

    def sent():
        panel.get_by_role("button", name="Refresh").click()
        expect(panel.get_by_role("heading", name="Message sent!")).to_be_visible()

    reload_until(page, sent)

    page.goto(phone_url)
    shown = page.get_by_role("listitem").filter(has_text="Hi Kerry, parcel AC-2001")
    reload_until(page, lambda: expect(shown).to_contain_text("Acme Support"))
    expect(
        shown.get_by_role(
            "img", name=f"Header image (the sandbox shows its sample photo for {PHOTO})"
        )
    ).to_be_visible()
    page.get_by_role("button", name="Replies delivered").click()
    expect(page.get_by_role("status")).to_contain_text("Delivered to your webhook (200).")

    page.goto(inbox_url)
    panel.get_by_role("button", name="Refresh").click()
    expect(panel).to_contain_text("Status: Delivered")

    page.goto(phone_url)
    page.get_by_role("button", name="Replies read").click()
    expect(page.get_by_role("status")).to_contain_text("(200)")
    send_from_phone(page, "Thanks, it arrived!")

    page.goto(inbox_url)
    panel.get_by_role("button", name="Refresh").click()
    expect(panel).to_contain_text("Status: Read")
    reload_until(page, lambda: expect(customer_parts(page).last).to_contain_text("it arrived"))
    assert_no_csp_violations(console_errors)


def test_a_template_paused_at_meta_after_it_was_offered_fails_with_its_reason(
    page: Page, sandbox, relay, console_errors, meta_restored
):
    customer_wrote_25_hours_ago(page, sandbox)
    inbox_url = page.url

    panel = open_templates(page)
    expect(panel).not_to_contain_text("winback_offer")  # paused at Meta: never offered
    fill_order_shipped(panel)

    # Meanwhile Meta pauses it for low quality; Octopods has not synced since.
    page.goto(f"{sandbox}/sandbox/")
    page.get_by_role("button", name=f"Pause order_shipped of {NUMBER.verified_name}").click()
    expect(page.get_by_text("Template order_shipped is now paused at Meta.")).to_be_visible()

    page.goto(inbox_url)
    panel.get_by_role("button", name="Send", exact=True).click()

    def failed():
        panel.get_by_role("button", name="Refresh").click()
        expect(panel.get_by_role("heading", name="Message not delivered")).to_be_visible()

    reload_until(page, failed)
    expect(panel).to_contain_text("WhatsApp has paused this template")
    assert_no_csp_violations(console_errors)
