"""Connecting an Intercom workspace through the sandbox, in a real browser."""

import pytest
from playwright.sync_api import Page, expect

from workspaces.models import Provider, Status, Workspace

from .conftest import admin_of, assert_no_csp_violations, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

CONFLICT = "This Intercom Workspace has been activated under a different account."


def connect_intercom(page: Page, workspace_label: str):
    card = page.locator("section.card", has=page.get_by_role("heading", name="Connect Intercom"))
    card.get_by_role("button", name="Connect").click()
    # The sandbox's consent screen, standing in for Intercom's.
    expect(page.get_by_role("heading", name="Connect Octopods to Intercom")).to_be_visible()
    page.get_by_label(workspace_label).check()
    page.get_by_role("button", name="Approve").click()


def test_an_admin_connects_a_workspace_and_another_account_cannot(
    page: Page, browser, sandbox, console_errors
):
    acme = admin_of("Acme Support", "admin@acme.test")
    sign_in(page, sandbox, "admin@acme.test")
    expect(page.get_by_role("heading", name="Thanks for signing up!")).to_be_visible()
    connect_intercom(page, "Acme Support")

    expect(page).to_have_url(f"{sandbox}/")
    expect(page.get_by_text("Acme Support is connected.")).to_be_visible()
    row = page.get_by_role("row", name="Acme Support")
    expect(row.get_by_role("cell", name="Intercom", exact=True)).to_be_visible()
    expect(row.get_by_role("cell", name="admin@acme.test")).to_be_visible()
    expect(row.locator(".status-active")).to_have_text("Active")
    workspace = Workspace.objects.get(provider=Provider.INTERCOM, external_id="sbx-acme")
    assert (workspace.account, workspace.status) == (acme, Status.ACTIVE)

    row.get_by_role("link", name="Acme Support").click()
    expect(page.get_by_text("Step 2 of 2: add your first channel")).to_be_visible()
    assert_no_csp_violations(console_errors)

    # A second account tries the same Intercom workspace.
    admin_of("Globex", "admin@globex.test")
    other = browser.new_context().new_page()
    sign_in(other, sandbox, "admin@globex.test")
    connect_intercom(other, "Acme Support")
    expect(other.get_by_text(CONFLICT)).to_be_visible()
    expect(other.get_by_role("heading", name="Thanks for signing up!")).to_be_visible()
    assert Workspace.objects.get(external_id="sbx-acme").account == acme


def test_denying_access_explains_who_must_approve(page: Page, sandbox):
    admin_of("Acme Support", "admin@acme.test")
    sign_in(page, sandbox, "admin@acme.test")
    card = page.locator("section.card", has=page.get_by_role("heading", name="Connect Intercom"))
    card.get_by_role("button", name="Connect").click()
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_text("Access was not approved")).to_be_visible()
    assert not Workspace.objects.exists()
