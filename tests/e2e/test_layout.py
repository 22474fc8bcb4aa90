"""The main pages on a phone-width screen, in a real browser: nothing wider than the
screen, tables scrolling inside their box, buttons big enough to tap, times in the
browser's own time zone, and not one console error or CSP violation."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Account, Invitation, Membership, Role
from channels.models import Channel, Contact, Message, MessageTemplate
from workspaces.models import Provider, Status, Workspace

from .conftest import admin_of, assert_no_csp_violations, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 375, "height": 812}
EMAIL = "someone.with.a.rather.long.address@acme-customer-support.example"
LONG_TEXT = (
    "Hello, my order 12345678901234567890 has not arrived; the tracking page "
    "https://example.com/track/a-very-long-path-that-does-not-wrap-anywhere says nothing."
)


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": PHONE, "timezone_id": "America/New_York"}


@pytest.fixture
def story():
    """An account with long names everywhere, the things that widen a page."""
    account = admin_of("Acme Customer Support International", EMAIL)
    admin = account.memberships.get().user
    # A second account puts the switcher in the header.
    Membership.objects.create(user=admin, account=Account.objects.create(name="Globex"))
    workspace = Workspace.objects.create(
        account=account,
        provider=Provider.INTERCOM,
        external_id="acme-intercom-workspace-0123456789",
        name="Acme Help Desk in Intercom",
        connected_by=admin,
    )
    Workspace.objects.create(
        account=account,
        provider=Provider.HUBSPOT,
        external_id="99887766",
        name="Acme Sales Portal",
        connected_by=admin,
        status=Status.NEEDS_RECONNECT,
    )
    channel = Channel.objects.create(
        workspace=workspace, kind="telegram", name="Acme Support Bot", identity="4242"
    )
    contact = Contact.objects.create(
        channel=channel, external_id="77", name="Jane Customer-With-A-Long-Name"
    )
    for status in ("relayed", "failed", "received"):
        Message.objects.create(
            channel=channel,
            contact=contact,
            direction="in",
            type="text",
            text=LONG_TEXT,
            status=status,
            error_text="More than 24 hours have passed since the customer last wrote"
            if status == "failed"
            else "",
        )
    Channel.objects.filter(pk=channel.pk).update(
        last_inbound_at=Message.objects.latest("created_at").created_at
    )
    MessageTemplate.objects.create(
        channel=channel, name="order_update", language="en_US", body=LONG_TEXT
    )
    Invitation.objects.create(
        account=account,
        email="new.teammate.with.a.long.address@acme-customer-support.example",
        role=Role.MEMBER,
        token_hash="e" * 64,
        invited_by=admin,
        expires_at=Message.objects.latest("created_at").created_at.replace(year=2099),
    )
    return workspace, channel


def assert_fits_the_screen(page: Page, url: str):
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, f"{url}: {scroll_width}px wide on a {inner_width}px screen"
    for button in page.locator("button:visible, a.button:visible").all():
        box = button.bounding_box()
        assert box is not None and box["height"] >= 36, f"{url}: {button.inner_text()!r} is small"


def test_it_fits_the_main_pages_on_a_phone(page: Page, live_server, story, console_errors):
    workspace, channel = story
    base = live_server.url
    for url in ("/auth/login/", "/auth/signup/"):
        assert_fits_the_screen(page, base + url)

    sign_in(page, base, EMAIL)
    for url in (
        "/",
        f"/workspaces/{workspace.pk}/",
        f"/workspaces/{workspace.pk}/channels/add/",
        f"/workspaces/{workspace.pk}/channels/add/telegram/",
        f"/workspaces/{workspace.pk}/remove/",
        f"/channels/{channel.pk}/",
        f"/channels/{channel.pk}/settings/",
        f"/channels/{channel.pk}/templates/add/",
        f"/channels/{channel.pk}/remove/",
        "/team/",
    ):
        assert_fits_the_screen(page, base + url)

    # The message log is wider than a phone: it scrolls inside its box.
    page.goto(f"{base}/channels/{channel.pk}/")
    log = page.locator(".table-scroll", has=page.locator("table.log"))
    assert log.evaluate("box => box.scrollWidth > box.clientWidth")
    # app.js told the server the browser's zone on the sign-in page.
    last_in = page.locator("dt", has_text="Last message in").locator("+ dd time")
    expect(last_in).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d E[SD]T$"))
    assert_no_csp_violations(console_errors)
    assert console_errors == []
