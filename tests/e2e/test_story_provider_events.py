"""The provider events beyond a plain message, each produced on the sandbox's phone and
seen through to the inbox: a Brazilian customer whose WhatsApp number lacks the ninth
digit lands on the contact the team already has and gets the answer; on Telegram a
customer's edit shows in the inbox marked as an edit of the earlier message, and a
button tap shows there as text while the phone shows the tap answered; on Messenger the
customer's read receipt (a watermark, naming no message) marks the teammate's reply Read
on the channel page."""

import pytest
from playwright.sync_api import Page, expect

from sandbox.meta.directory import MESSENGER_PAGES, META_APP, WHATSAPP_NUMBERS
from sandbox.telegram.directory import TELEGRAM_BOTS

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
)
from .test_story_round_trips import TEAMMATE, WORKSPACE, connected_workspace

pytestmark = pytest.mark.django_db(transaction=True)


def expect_reply_on_phone(page: Page, phone_url: str, text: str):
    page.goto(phone_url)
    reply = page.get_by_role("listitem").filter(has_text="Octopods:")
    reload_until(page, lambda: expect(reply.filter(has_text=text)).to_be_visible())


def test_a_brazilian_customer_is_the_contact_the_team_knows_and_gets_the_answer(
    page: Page, sandbox, relay, console_errors
):
    number = WHATSAPP_NUMBERS[0]
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

    # The phone writes as Joana, whom the sandbox Intercom already has as a user.
    page.goto(f"{sandbox}/sandbox/phone/")
    page.get_by_role("button", name="Write as a Brazilian customer").click()
    expect(page.get_by_text("Joana Silva writes from 551187654321")).to_be_visible()
    phone_url = page.url
    send_from_phone(page, "Oi, cadê meu pedido?")

    open_inbox_conversation(page, sandbox, WORKSPACE, "Joana Silva", "Oi, cadê meu pedido?")
    inbox_url = page.url
    facts = page.get_by_role("definition")
    expect(facts.first).to_contain_text("User")  # the existing contact, not a new lead
    expect(facts.nth(1)).to_have_text("+5511987654321")
    expect(customer_parts(page).filter(has_text="Oi, cadê meu pedido?")).to_be_visible()

    # One contact, one conversation: her page lists only this one.
    page.get_by_role("heading", name="Joana Silva").get_by_role("link").click()
    expect(page.get_by_role("definition").first).to_have_text("User")
    expect(page.get_by_role("listitem").filter(has_text="Conversation ")).to_have_count(1)
    page.goto(f"{sandbox}/sandbox/intercom/inbox/")
    page.get_by_role("link", name=WORKSPACE, exact=True).click()
    expect(page.get_by_role("link", name="Joana Silva", exact=True)).to_have_count(1)

    page.goto(inbox_url)
    reply_in_inbox(page, TEAMMATE, "Olá Joana! Your order ships today.")
    expect_reply_on_phone(page, phone_url, "Olá Joana! Your order ships today.")
    assert_no_csp_violations(console_errors)


def test_a_telegram_edit_and_a_button_tap_reach_the_inbox(
    page: Page, sandbox, relay, console_errors
):
    bot = TELEGRAM_BOTS[0]
    customer = "Jane Doe"  # the phone's default Telegram customer
    connected_workspace(page, sandbox)
    add_channel(page, "Telegram", {"Bot token": bot.token})

    phone_url = open_phone(page, sandbox, f"Telegram: {bot.first_name} (@{bot.username})")
    send_from_phone(page, "Where is order #1042?")
    open_inbox_conversation(page, sandbox, WORKSPACE, customer, "Where is order #1042?")
    inbox_url = page.url

    # The customer corrects the number; the inbox cannot change a posted part, so it
    # says which message changed and how.
    page.goto(phone_url)
    page.get_by_label("Edit a text you sent").select_option(label="Where is order #1042?")
    page.get_by_label("New text").fill("Where is order #1043?")
    page.get_by_role("button", name="Edit the message").click()
    expect(page.get_by_role("status")).to_contain_text("Delivered to your webhook (200).")

    page.goto(inbox_url)
    edit = customer_parts(page).filter(has_text="Where is order #1043?")
    reload_until(page, lambda: expect(edit).to_be_visible())
    expect(edit).to_contain_text("✏️ Edited: Where is order #1043?")
    expect(edit).to_contain_text("(was: Where is order #1042?)")
    # The earlier message stays as it was written.
    expect(customer_parts(page).first).to_contain_text("Where is order #1042?")
    expect(customer_parts(page).first).not_to_contain_text("Edited")

    # A teammate asks; the customer answers with a button under the bot's message.
    reply_in_inbox(page, TEAMMATE, "Found it. Shall we ship it today?")
    expect_reply_on_phone(page, phone_url, "Found it. Shall we ship it today?")
    page.get_by_label("Tap a button labelled").fill("Yes, please")
    page.get_by_role("button", name="Tap the button").click()
    expect(page.get_by_role("status")).to_contain_text("Delivered to your webhook (200).")
    # Octopods answers the tap (answerCallbackQuery), which stops the button's spinner.
    tapped = page.get_by_role("listitem").filter(has_text="Tapped the button “Yes, please”.")
    reload_until(page, lambda: expect(tapped).to_contain_text("The bot answered the tap"))

    page.goto(inbox_url)
    tap = customer_parts(page).filter(has_text="Yes, please")
    reload_until(page, lambda: expect(tap).to_be_visible())
    # The button was under the bot's message: the inbox quotes the question answered.
    expect(tap).to_contain_text("> Found it. Shall we ship it today?")
    assert_no_csp_violations(console_errors)


def test_a_messenger_read_receipt_marks_the_reply_read(page: Page, sandbox, relay, console_errors):
    meta_page = MESSENGER_PAGES[0]
    connected_workspace(page, sandbox)
    channel_url = add_channel(
        page,
        "Messenger",
        {
            "Page ID": meta_page.page_id,
            "Page access token": meta_page.page_access_token,
            "App secret": META_APP.app_secret,
        },
    )
    # Messenger's callback URL is the Meta app's: pasted into its dashboard.
    setup = page.get_by_role("region", name="One more step")
    callback_url = setup.get_by_role("definition").nth(0).inner_text()
    verify_token = setup.get_by_role("definition").nth(1).inner_text()
    page.goto(f"{sandbox}/sandbox/meta/app/")
    section = page.get_by_role("region", name="Page (Messenger)")
    section.get_by_label("Callback URL").fill(callback_url)
    section.get_by_label("Verify token").fill(verify_token)
    section.get_by_role("button", name="Verify and save").click()
    expect(page.get_by_text("Verified and saved")).to_be_visible()

    phone_url = open_phone(page, sandbox, f"Messenger: {meta_page.name} (Page {meta_page.page_id})")
    send_from_phone(page, "Is the shop open?")
    # Messenger's webhook carries no name, so the inbox knows Sam by the contact's id.
    page.goto(f"{sandbox}/sandbox/intercom/inbox/")
    page.get_by_role("link", name=WORKSPACE, exact=True).click()
    row = page.get_by_role("row").filter(has_text="Is the shop open?")
    reload_until(page, lambda: expect(row).to_be_visible())
    row.get_by_role("link").click()
    expect(customer_parts(page).filter(has_text="Is the shop open?")).to_be_visible()
    reply_in_inbox(page, TEAMMATE, "Yes, until 6.")
    expect_reply_on_phone(page, phone_url, "Yes, until 6.")

    page.goto(channel_url)
    reply = log_row(page, "Yes, until 6.")
    reload_until(
        page, lambda: expect(reply.get_by_role("cell", name="Sent", exact=True)).to_be_visible()
    )

    # Messenger's read names no message: a watermark, everything sent before it.
    page.goto(phone_url)
    page.get_by_role("button", name="Replies read").click()
    expect(page.get_by_role("status")).to_contain_text("Delivered to your webhook (200).")

    page.goto(channel_url)
    expect(reply.get_by_role("cell", name="Read", exact=True)).to_be_visible()
    expect(
        log_row(page, "Is the shop open?").get_by_role("cell", name="Inbound", exact=True)
    ).to_be_visible()
    assert_no_csp_violations(console_errors)
