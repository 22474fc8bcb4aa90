"""A workspace admin uninstalls Octopods in Intercom (the sandbox stands in): the
workspace shows Disconnected with a Reconnect button, and reconnecting restores it."""

import pytest
from playwright.sync_api import Page, expect

from .conftest import admin_of, assert_no_csp_violations, expect_green, sign_in
from .test_connect import connect_intercom

pytestmark = pytest.mark.django_db(transaction=True)

WORKSPACE = "Acme Support"  # the sandbox's Intercom workspace sbx-acme


def test_an_uninstall_in_intercom_disconnects_the_workspace_until_it_is_reconnected(
    page: Page, sandbox, console_errors
):
    admin_of("Acme Support", "admin@acme.test")
    sign_in(page, sandbox, "admin@acme.test")
    connect_intercom(page, WORKSPACE)
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=WORKSPACE))
    expect_green(row.get_by_text("Active", exact=True))

    page.goto(f"{sandbox}/sandbox/intercom/uninstall")
    page.get_by_role("button", name=f"Uninstall Octopods from {WORKSPACE}").click()
    uninstalled = page.get_by_role("heading", name=f"Octopods uninstalled from {WORKSPACE}")
    expect(uninstalled).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("HTTP status 200")

    page.goto(f"{sandbox}/")
    expect(row.get_by_text("Disconnected", exact=True)).to_be_visible()
    expect(row.get_by_text("Active", exact=True)).to_have_count(0)
    # Right in the row: an admin need not open the workspace to find the way back.
    reconnect = row.get_by_role("button", name="Reconnect")
    expect(reconnect).to_be_visible()
    reconnect.click()
    expect(page.get_by_role("heading", name="Connect Octopods to Intercom")).to_be_visible()
    page.get_by_label(WORKSPACE).check()
    page.get_by_role("button", name="Approve").click()
    expect_green(row.get_by_text("Active", exact=True))
    expect(row.get_by_role("button", name="Reconnect")).to_have_count(0)
    assert_no_csp_violations(console_errors)
