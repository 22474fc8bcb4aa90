"""A teammate's story: the admin invites them by e-mail, they sign up through the
invitation and see the account's workspace, with nothing an admin alone may do."""

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import admin_of, assert_no_csp_violations, sign_in, sign_up
from .test_connect import connect_intercom

pytestmark = pytest.mark.django_db(transaction=True)

WORKSPACE = "Acme Support"  # the sandbox's Intercom workspace sbx-acme
INVITE_PATH = re.compile(r"https?://[^/\s]+(/team/join/[^/\s]+/)")


def test_an_invited_member_signs_up_and_sees_the_workspace_without_admin_buttons(
    page: Page, sandbox, another_person, mailoutbox, console_errors
):
    admin_of("Acme Support", "admin@acme.test")
    sign_in(page, sandbox, "admin@acme.test")
    connect_intercom(page, WORKSPACE)
    expect(page.get_by_text(f"{WORKSPACE} is connected.")).to_be_visible()

    page.get_by_role("link", name="Team").click()
    page.get_by_label("E-mail address").fill("sam@acme.test")
    page.get_by_role("combobox", name=re.compile(r"^Role:?$")).select_option(label="Member")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to sam@acme.test.")).to_be_visible()
    (invitation,) = [m for m in mailoutbox if m.to == ["sam@acme.test"]]
    link = INVITE_PATH.search(invitation.body)
    assert link, invitation.body

    member = another_person()
    member.goto(sandbox + link.group(1))
    expect(member.get_by_role("heading", name="Join Acme Support")).to_be_visible()
    member.get_by_role("link", name="Sign up to join").click()
    expect(member.get_by_label("Account name")).to_have_count(0)
    expect(member.get_by_label("Email")).to_have_value("sam@acme.test")
    sign_up(member, sandbox, mailoutbox, email="sam@acme.test")

    expect(member).to_have_url(f"{sandbox}/")
    expect(member.get_by_role("heading", name="Connected Workspaces")).to_be_visible()
    row = member.get_by_role("row").filter(has=member.get_by_role("link", name=WORKSPACE))
    expect(row.get_by_role("cell", name="Intercom", exact=True)).to_be_visible()
    expect(row.get_by_role("cell", name="admin@acme.test", exact=True)).to_be_visible()
    expect(row.get_by_text("Active", exact=True)).to_be_visible()
    expect(member.get_by_text("Only admins can connect workspaces")).to_be_visible()
    expect(member.get_by_role("button", name="Connect")).to_have_count(0)

    row.get_by_role("link", name=WORKSPACE).click()
    expect(member.get_by_role("heading", name=WORKSPACE, exact=True)).to_be_visible()
    expect(member.get_by_text("Only admins can add channels.")).to_be_visible()
    expect(member.get_by_role("link", name="Add channel")).to_have_count(0)
    expect(member.get_by_role("button", name="Disconnect")).to_have_count(0)

    # The admin sees the new teammate on the team page.
    page.reload()
    expect(page.get_by_role("row").filter(has_text="sam@acme.test")).to_be_visible()
    assert_no_csp_violations(console_errors)
