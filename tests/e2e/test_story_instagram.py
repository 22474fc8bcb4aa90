"""An Instagram round trip: an admin adds the Instagram account (its linked Page's ID and
token, the Meta app's secret) and pastes Octopods' callback URL and verify token into the
Meta app dashboard under Instagram; a customer writes and sends a photo from the
sandbox's phone, both reach the sandbox's Intercom inbox, a teammate's answer reaches the
phone, the customer's seen receipt marks it Read on the channel page and their reaction
to it shows in the inbox. A day later the
24-hour window is closed, and a teammate's reply still gets through as a person's reply
(Instagram's Human Agent tag)."""

import re

import pytest
from playwright.sync_api import Page, expect

from sandbox.meta.directory import INSTAGRAM_ACCOUNTS, META_APP

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


def paste_callback_in_meta_dashboard(page: Page, sandbox: str):
    """What the channel page asks of the admin: Octopods' callback URL and verify token,
    pasted into the Meta app dashboard under the Instagram object."""
    setup = page.get_by_role("region", name="One more step")
    expect(setup).to_contain_text("choose the Instagram object")
    callback_url = setup.get_by_role("definition").nth(0).inner_text()
    verify_token = setup.get_by_role("definition").nth(1).inner_text()
    page.goto(f"{sandbox}/sandbox/meta/app/")
    section = page.get_by_role("region", name="Instagram")
    section.get_by_label("Callback URL").fill(callback_url)
    section.get_by_label("Verify token").fill(verify_token)
    section.get_by_role("button", name="Verify and save").click()
    expect(page.get_by_text("so Instagram webhooks now go there")).to_be_visible()


def expect_reply_on_phone(page: Page, phone_url: str, text: str):
    page.goto(phone_url)
    reply = page.get_by_role("listitem").filter(has_text="Octopods:")
    reload_until(page, lambda: expect(reply.filter(has_text=text)).to_be_visible())


def test_an_instagram_customer_gets_an_answer_and_sees_it(
    page: Page, sandbox, relay, console_errors
):
    account = INSTAGRAM_ACCOUNTS[0]
    connected_workspace(page, sandbox)
    channel_url = add_channel(
        page,
        "Instagram",
        {
            "Page ID": account.page.page_id,
            "Page access token": account.page.page_access_token,
            "App secret": META_APP.app_secret,
        },
    )
    # The account's @username names the channel.
    expect(page.get_by_text(f"Instagram channel “@{account.username}” added.")).to_be_visible()
    paste_callback_in_meta_dashboard(page, sandbox)

    phone_url = open_phone(page, sandbox, f"Instagram: {account.page.name} (@{account.username})")
    send_from_phone(page, "Do you ship to Lisbon?")

    # Instagram's webhook carries no name: the inbox knows the customer by their id.
    page.goto(f"{sandbox}/sandbox/intercom/inbox/")
    page.get_by_role("link", name=WORKSPACE, exact=True).click()
    row = page.get_by_role("row").filter(has_text="Do you ship to Lisbon?")
    reload_until(page, lambda: expect(row).to_be_visible())
    row.get_by_role("link").first.click()
    expect(customer_parts(page).filter(has_text="Do you ship to Lisbon?")).to_be_visible()
    inbox_url = page.url

    # A photo: Instagram pictures carry no caption.
    page.goto(phone_url)
    expect(page.get_by_text("Instagram pictures have no caption.")).to_be_visible()
    page.get_by_role("button", name="Send the photo").click()
    expect(page.get_by_role("status")).to_contain_text("Delivered to your webhook (200).")
    page.goto(inbox_url)
    photo = customer_parts(page).get_by_role("img", name=re.compile("^Attachment: "))
    reload_until(page, lambda: expect(photo).to_be_visible())
    # The inbox shows the picture itself, fetched from Meta's CDN through Octopods.
    expect(photo).not_to_have_js_property("naturalWidth", 0)

    reply_in_inbox(page, TEAMMATE, "Yes, in 3 days.")
    expect_reply_on_phone(page, phone_url, "Yes, in 3 days.")

    # Instagram reports no delivery: a reply Meta accepted is in the customer's inbox.
    page.goto(channel_url)
    answer = log_row(page, "Yes, in 3 days.")
    reload_until(
        page,
        lambda: expect(answer.get_by_role("cell", name="Delivered", exact=True)).to_be_visible(),
    )

    # The customer sees it: messaging_seen names the reply.
    page.goto(phone_url)
    page.get_by_role("button", name="Replies read").click()
    expect(page.get_by_role("status")).to_contain_text("Delivered to your webhook (200).")
    page.goto(channel_url)
    reload_until(
        page, lambda: expect(answer.get_by_role("cell", name="Read", exact=True)).to_be_visible()
    )
    expect(
        log_row(page, "Do you ship to Lisbon?").get_by_role("cell", name="Inbound", exact=True)
    ).to_be_visible()

    # The customer reacts to the answer; the inbox shows the reaction on it.
    page.goto(f"{sandbox}/sandbox/phone/instagram/")
    page.get_by_role("link", name=re.compile(f"writing to account {account.account_id}$")).click()
    page.get_by_label("Reply", exact=True).select_option(label="Yes, in 3 days.")
    page.get_by_label("Reaction").select_option(label="👍")
    page.get_by_role("button", name="Send the reaction").click()
    expect(page.get_by_role("status")).to_contain_text("Delivered to your webhook (200).")
    page.goto(inbox_url)
    reaction = customer_parts(page).filter(has_text="Reacted 👍")
    reload_until(page, lambda: expect(reaction).to_contain_text("Yes, in 3 days."))

    # A day later the 24-hour window is closed; a person's reply still goes out, tagged
    # HUMAN_AGENT (up to 7 days after the customer's last message).
    page.goto(phone_url)
    page.get_by_role("button", name="Pretend 25 hours have passed").click()
    expect(page.get_by_text("The 24-hour window is closed")).to_be_visible()
    page.goto(inbox_url)
    reply_in_inbox(page, TEAMMATE, "Your parcel left today.")
    expect_reply_on_phone(page, phone_url, "Your parcel left today.")
    assert_no_csp_violations(console_errors)
