"""Browser tests: pytest-playwright driving Debian's Chromium against ``live_server``.

No browser is ever downloaded (``playwright install`` is not possible here); we always
launch the system Chromium at ``CHROMIUM_PATH`` (default ``/usr/bin/chromium``).
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Account, Membership, Role
from octopods.settings.base import sandbox_provider_settings
from tests.conftest import PASSWORD, make_user

# Test-only: sync Playwright runs an event loop in the test thread, which makes Django
# think ORM calls from the test (and fixtures) come from an async context.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        message = f"Chromium not found at {CHROMIUM} (set CHROMIUM_PATH)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must run the browser tests, never skip them.
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(autouse=True)
def _fail_fast(page):
    """Fail in seconds, not Playwright's default 30 s: the app is local and quick."""
    page.set_default_timeout(10_000)
    expect.set_options(timeout=10_000)


@pytest.fixture
def console_errors(page):
    """Console messages of type error on ``page`` (CSP violations are reported there)."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    return errors


def assert_no_csp_violations(errors: list[str]) -> None:
    violations = [e for e in errors if "Content Security Policy" in e]
    assert not violations, violations


@pytest.fixture
def sandbox(settings, live_server):
    """Point the product at the sandbox served by the live server, as on a laptop."""
    settings.PUBLIC_BASE_URL = live_server.url
    for name, value in sandbox_provider_settings(live_server.url).items():
        setattr(settings, name, value)
    return live_server.url


def admin_of(name: str, email: str):
    account = Account.objects.create(name=name)
    Membership.objects.create(user=make_user(email), account=account, role=Role.ADMIN)
    return account


def sign_in(page: Page, base: str, email: str):
    page.goto(f"{base}/auth/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
