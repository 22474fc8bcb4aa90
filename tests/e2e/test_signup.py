"""Sign-up to the welcome state, and a member's view of the same page, in a real browser."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Account, Membership, Role
from tests.conftest import PASSWORD, make_user

from .conftest import assert_no_csp_violations

pytestmark = pytest.mark.django_db(transaction=True)

CONFIRM_PATH = re.compile(r"https?://[^/\s]+(/auth/confirm-email/[^/\s]+/)")


def test_signup_verify_and_land_on_welcome(
    page: Page, live_server, mailoutbox, console_errors, tmp_path
):
    email = "founder@acme.test"
    page.goto(f"{live_server.url}/auth/signup/")
    page.get_by_label("Account name").fill("Acme Support")
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^Password:?$")).fill("Tentacle-Harbour-42")
    page.get_by_label("Password (again)").fill("Tentacle-Harbour-42")
    page.get_by_role("button", name="Sign Up").click()

    expect(page.get_by_role("heading", name=re.compile("verify your email", re.I))).to_be_visible()
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [email]
    match = CONFIRM_PATH.search(message.body)
    assert match, message.body

    # PUBLIC_BASE_URL need not be live_server's address: open the path on live_server.
    page.goto(live_server.url + match.group(1))
    page.get_by_role("button", name="Confirm").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Thanks for signing up!")).to_be_visible()
    expect(page.get_by_text("Step 1 of 2")).to_be_visible()
    intercom_heading = page.get_by_role("heading", name="Connect Intercom")
    intercom = page.locator("section.card", has=intercom_heading)
    expect(intercom.get_by_text("Link your Intercom workspace")).to_be_visible()
    expect(intercom.get_by_role("button", name="Connect")).to_be_visible()
    expect(page.get_by_role("heading", name="Connect HubSpot")).to_be_visible()
    expect(page.get_by_text("Only admins can connect workspaces")).to_have_count(0)
    page.screenshot(path=tmp_path / "welcome.png", full_page=True)

    account = Account.objects.get(name="Acme Support")
    membership = Membership.objects.get(account=account)
    assert membership.user.email == email
    assert membership.role == Role.ADMIN
    assert_no_csp_violations(console_errors)


def test_member_sees_workspaces_without_connect_buttons(page: Page, live_server, console_errors):
    account = Account.objects.create(name="Acme Support")
    Membership.objects.create(user=make_user("admin@acme.test"), account=account, role=Role.ADMIN)
    member = make_user("member@acme.test")
    Membership.objects.create(user=member, account=account, role=Role.MEMBER)

    page.goto(f"{live_server.url}/auth/login/")
    page.get_by_label("Email").fill(member.email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page).to_have_title(re.compile("Connected Workspaces"))
    expect(page.get_by_role("heading", name="Connect Intercom")).to_be_visible()
    expect(page.get_by_role("heading", name="Connect HubSpot")).to_be_visible()
    expect(page.get_by_text("Only admins can connect workspaces")).to_be_visible()
    expect(page.get_by_role("button", name="Connect")).to_have_count(0)
    assert_no_csp_violations(console_errors)
