"""Adding channels and receiving a customer's message, offline, in a real browser: the
product calls the sandbox's provider APIs, and the sandbox's customer phone posts the
provider's signed webhooks back to the product (the live server answers both)."""

import pytest
from playwright.sync_api import Page, expect

from channels.models import Channel, Message
from sandbox.meta.directory import MESSENGER_PAGES, WHATSAPP_NUMBERS
from sandbox.telegram.directory import TELEGRAM_BOTS
from sandbox.twilio.directory import TWILIO_ACCOUNTS
from workspaces.models import Provider, Workspace

from .conftest import admin_of, assert_no_csp_violations, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

META_APP_SECRET = "5b1f0c1e8d2a4e6f9a0b3c4d5e6f7a8b"


@pytest.fixture
def workspace(sandbox):
    account = admin_of("Acme Support", "admin@acme.test")
    return Workspace.objects.create(
        account=account, provider=Provider.INTERCOM, external_id="sbx-acme", name="Acme Help"
    )


def add_channel(page: Page, base: str, workspace, kind_label: str, fields: dict[str, str]):
    page.goto(f"{base}/workspaces/{workspace.pk}/")
    expect(page.get_by_text("Step 2 of 2: add your first channel")).to_be_visible()
    page.get_by_role("link", name="Add channel").click()
    page.get_by_role("link", name=kind_label, exact=True).click()
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Check and add").click()


def add_whatsapp(page: Page, base: str, workspace):
    """The admin adds the sandbox's first WhatsApp number; returns it."""
    number = WHATSAPP_NUMBERS[0]
    sign_in(page, base, "admin@acme.test")
    add_channel(
        page,
        base,
        workspace,
        "WhatsApp",
        {
            "Phone number ID": number.phone_number_id,
            "WhatsApp Business Account ID": number.waba_id,
            "Access token": number.access_token,
            "App secret": META_APP_SECRET,
        },
    )
    expect(page.get_by_text(f"WhatsApp channel “{number.verified_name}” added.")).to_be_visible()
    return number


def write_as_customer(page: Page, base: str, endpoint: str, text: str):
    page.goto(f"{base}/sandbox/phone/")
    page.get_by_label("Write to").select_option(label=endpoint)
    page.get_by_role("button", name="Open the conversation").click()
    page.get_by_label("Message").fill(text)
    page.get_by_role("button", name="Send text").click()
    expect(page.get_by_text("(200)").first).to_be_visible()


def expect_in_log(page: Page, base: str, channel: Channel, text: str):
    page.goto(f"{base}/channels/{channel.pk}/")
    log = page.locator("table.log")
    expect(log.get_by_role("cell", name=text)).to_be_visible()
    expect(page.locator(".badge.status-active").first).to_be_visible()


def test_an_admin_adds_a_telegram_bot_and_a_customer_message_arrives(
    page: Page, sandbox, workspace, console_errors
):
    bot = TELEGRAM_BOTS[0]
    sign_in(page, sandbox, "admin@acme.test")
    add_channel(page, sandbox, workspace, "Telegram", {"Bot token": bot.token})

    expect(page.get_by_text(f"Telegram channel “@{bot.username}” added.")).to_be_visible()
    expect(page.get_by_text("Registered")).to_be_visible()
    expect(page.get_by_text(bot.token)).to_have_count(0)
    channel = Channel.objects.get(kind="telegram")
    assert channel.identity == str(bot.id)

    write_as_customer(page, sandbox, f"Telegram: {bot.first_name} (@{bot.username})", "hello")
    assert Message.objects.get(channel=channel).text == "hello"
    expect_in_log(page, sandbox, channel, "hello")
    assert_no_csp_violations(console_errors)


def test_whatsapp_is_verified_by_meta_while_it_is_added(page: Page, sandbox, workspace):
    number = add_whatsapp(page, sandbox, workspace)
    channel = Channel.objects.get(kind="whatsapp")
    # The sandbox, like Meta, called our URL back with its handshake during registration.
    assert channel.webhook_verified_at is not None

    write_as_customer(
        page,
        sandbox,
        f"WhatsApp: {number.verified_name} ({number.display_phone_number})",
        "hola",
    )
    expect_in_log(page, sandbox, channel, "hola")


def test_messenger_asks_for_the_callback_url_until_meta_verifies_it(page: Page, sandbox, workspace):
    meta_page = MESSENGER_PAGES[0]
    sign_in(page, sandbox, "admin@acme.test")
    add_channel(
        page,
        sandbox,
        workspace,
        "Messenger",
        {
            "Page ID": meta_page.page_id,
            "Page access token": meta_page.page_access_token,
            "App secret": META_APP_SECRET,
        },
    )
    expect(page.get_by_role("heading", name="One more step")).to_be_visible()
    setup = page.locator("section.setup")
    callback_url = setup.locator("code.copy").nth(0).inner_text()
    verify_token = setup.locator("code.copy").nth(1).inner_text()

    # What the admin does in Meta's dashboard.
    page.goto(f"{sandbox}/sandbox/meta/app/")
    section = page.locator("section", has=page.locator("#object-page"))
    section.get_by_label("Callback URL").fill(callback_url)
    section.get_by_label("Verify token").fill(verify_token)
    section.get_by_role("button", name="Verify and save").click()
    expect(page.get_by_text("Verified and saved")).to_be_visible()

    channel = Channel.objects.get(kind="messenger")
    page.goto(f"{sandbox}/channels/{channel.pk}/")
    expect(page.get_by_role("heading", name="One more step")).to_have_count(0)
    expect(page.get_by_text("Verified", exact=True)).to_be_visible()

    write_as_customer(
        page, sandbox, f"Messenger: {meta_page.name} (Page {meta_page.page_id})", "hey"
    )
    expect_in_log(page, sandbox, channel, "hey")


def test_an_sms_number_is_pointed_at_octopods_and_receives(page: Page, sandbox, workspace):
    account = TWILIO_ACCOUNTS[0]
    number = account.numbers[0]
    sign_in(page, sandbox, "admin@acme.test")
    add_channel(
        page,
        sandbox,
        workspace,
        "SMS",
        {
            "Account SID": account.account_sid,
            "Auth Token": account.auth_token,
            "Twilio phone number": number.phone_number,
        },
    )
    channel = Channel.objects.get(kind="sms")
    assert channel.identity == number.phone_number
    write_as_customer(
        page, sandbox, f"Twilio SMS: {number.friendly_name} ({number.phone_number})", "yo"
    )
    expect_in_log(page, sandbox, channel, "yo")


def test_a_bad_token_is_explained_and_nothing_is_added(page: Page, sandbox, workspace):
    sign_in(page, sandbox, "admin@acme.test")
    add_channel(
        page,
        sandbox,
        workspace,
        "Telegram",
        {"Bot token": "7999999999:AAHsandbox-nobody-knows-this-token-9"},
    )
    expect(page.get_by_text("Telegram did not accept this bot token")).to_be_visible()
    assert not Channel.objects.exists()


def test_a_whatsapp_channels_templates_come_from_meta_and_a_sent_one_shows_rendered(
    page: Page, sandbox, workspace, console_errors
):
    add_whatsapp(page, sandbox, workspace)
    # Synced while it was added, from the sandbox's Graph API.
    listed = page.locator("table.templates")
    expect(listed.get_by_role("row")).to_have_count(6)
    shipped = listed.get_by_role("row").filter(has_text="order_shipped")
    expect(shipped).to_contain_text("Utility")
    expect(shipped).to_contain_text("Approved")
    expect(listed.get_by_role("row").filter(has_text="winback_offer")).to_contain_text("Paused")
    expect(listed.get_by_role("row").filter(has_text="miracle_cure")).to_contain_text("Rejected")
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_text("5 WhatsApp templates synced from Meta.")).to_be_visible()

    # Sent the way the inbox app will send it: the synced row, filled in, through the
    # real adapter to the sandbox's Graph API.
    from channels.models import WhatsAppTemplate
    from channels.template_services import whatsapp_template_message
    from integrations.channel import OutboundMessage
    from integrations.registry import channel_adapter

    channel = Channel.objects.get(kind="whatsapp")
    template = WhatsAppTemplate.objects.get(channel=channel, name="order_shipped")
    message = whatsapp_template_message(
        template=template,
        values={
            "header.media": "https://cdn.example.com/box.jpg",
            "body.1": "Kerry",
            "body.2": "#1042",
        },
    )
    adapter = channel_adapter("whatsapp")
    adapter.send(
        credentials=adapter.credentials(channel.credentials_data),
        message=OutboundMessage(to="15551234567", template=message),
    )
    page.goto(f"{sandbox}/sandbox/phone/")
    page.get_by_role("link", name="15551234567").first.click()
    bubble = page.locator("li.bubble.out").last
    expect(bubble).to_contain_text("Hi Kerry, your order #1042 is on its way.")
    expect(bubble).to_contain_text("Acme Support")
    expect(bubble).to_contain_text("Where is it?")
    expect(bubble.get_by_role("img")).to_be_visible()
    assert_no_csp_violations(console_errors)
