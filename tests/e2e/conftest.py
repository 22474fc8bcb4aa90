"""Browser tests: pytest-playwright driving Debian's Chromium against ``live_server``.

No browser is ever downloaded (``playwright install`` is not possible here); we always
launch the system Chromium at ``CHROMIUM_PATH`` (default ``/usr/bin/chromium``).

Every test leaves a full-page screenshot of the last page it opened in
``artifacts/screenshots/<test name>.png`` (passed or failed), which CI keeps.
"""

import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import DEFAULT_DB_ALIAS
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

from accounts.models import Account, Membership, Role
from octopods.settings.base import sandbox_provider_settings
from relay import wakeup
from tests.conftest import PASSWORD, make_user

# Test-only: sync Playwright runs an event loop in the test thread, which makes Django
# think ORM calls from the test (and fixtures) come from an async context.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 10_000
HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE.parents[1] / "artifacts" / "screenshots"
# How long one look at a page waits before it is loaded again (see reload_until).
LOOK_MS = 300
# Longest a test's end waits for the in-process relay to finish what it was woken for.
RELAY_DRAIN_SECONDS = 10


def pytest_collection_finish(session):
    """On SQLite, browser tests get a database file instead of the in-memory one.

    The live server answers each request in a thread of its own, with a connection of its
    own, and the relay works in yet another thread. Connections to SQLite's in-memory
    database (a shared cache) refuse a write at once while another one writes ("database
    table is locked"), and one connection shared by all threads breaks in other ways; with
    a file, a writer waits its turn. Only runs that include browser tests are changed."""
    if not any(HERE in item.path.parents for item in session.items):
        return
    database = django_settings.DATABASES[DEFAULT_DB_ALIAS]
    if database["ENGINE"] != "django.db.backends.sqlite3" or database["TEST"].get("NAME"):
        return
    # pytest-django adds xdist's worker name to it; the test run removes it at the end.
    database["TEST"]["NAME"] = str(Path(tempfile.gettempdir()) / f"octopods-e2e-{os.getpid()}")
    database["OPTIONS"] = {
        **database["OPTIONS"],
        "timeout": 30,
        # Readers never wait for a writer; a transaction takes the write lock when it
        # starts, so two of them cannot each wait for the other.
        "init_command": "PRAGMA journal_mode=WAL",
        "transaction_mode": "IMMEDIATE",
    }


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
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)


def watch_console(page: Page, errors: list[str]) -> None:
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))


@pytest.fixture
def console_errors(page):
    """Console messages of type error on ``page`` (CSP violations are reported there), and
    on the pages of ``another_person``."""
    errors: list[str] = []
    watch_console(page, errors)
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


@pytest.fixture
def relay(settings, sandbox):
    """The relay as a newcomer's ``scripts/run`` has it, with no broker: a thread of the
    web process relays a contact once its webhook's transaction commits."""
    settings.RELAY_IN_PROCESS = True
    yield
    # Let the thread finish before the test's database is emptied under it.
    assert wakeup.waker.flush(RELAY_DRAIN_SECONDS), "the relay was still busy"


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


def reload_until(page: Page, check: Callable[[], None], *, timeout_ms: int = TIMEOUT_MS):
    """Load ``page`` again until ``check`` (Playwright ``expect`` calls) passes.

    Our pages and the sandbox's are rendered on the server and never refresh on their
    own, while the relay works in the background: a person presses Refresh until the
    message shows up, and so does this."""
    deadline = time.monotonic() + timeout_ms / 1000
    expect.set_options(timeout=LOOK_MS)
    try:
        while True:
            try:
                check()
                return
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
            page.reload()
    finally:
        expect.set_options(timeout=TIMEOUT_MS)


# --- what a person does, step by step ---------------------------------------------------

CONFIRM_PATH = re.compile(r"https?://[^/\s]+(/auth/confirm-email/[^/\s]+/)")
NEW_PASSWORD = "Tentacle-Harbour-42"


def sign_up(page: Page, base: str, mailoutbox, *, email: str, account: str | None = None):
    """Sign up; with ``account``, confirm the e-mail from the link Octopods sent (an
    invited person's address is already confirmed by their invitation)."""
    page.goto(f"{base}/auth/signup/")
    if account is not None:
        page.get_by_label("Account name").fill(account)
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(NEW_PASSWORD)
    page.get_by_label("Password (again)").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    if account is None:
        return
    expect(page.get_by_role("heading", name=re.compile("verify your email", re.I))).to_be_visible()
    (message,) = [m for m in mailoutbox if m.to == [email]]
    match = CONFIRM_PATH.search(message.body)
    assert match, message.body
    # PUBLIC_BASE_URL need not be live_server's address: open the path on live_server.
    page.goto(base + match.group(1))
    page.get_by_role("button", name="Confirm").click()


def expect_green(locator: Locator):
    """The text is shown in green: clearly more green in it than red or blue."""
    expect(locator).to_be_visible()
    red, green, blue = locator.evaluate(
        "e => getComputedStyle(e).color.match(/[0-9.]+/g).slice(0, 3).map(Number)"
    )
    assert green > red + 40 and green > blue + 40, (red, green, blue)


def add_channel(page: Page, kind_label: str, fields: dict[str, str]) -> str:
    """From the workspace page: add a channel of ``kind_label``; the channel page's URL."""
    page.get_by_role("link", name="Add channel").click()
    page.get_by_role("link", name=kind_label, exact=True).click()
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Check and add").click()
    expect(page.get_by_text(re.compile(rf"^{kind_label} channel “.+” added\.$"))).to_be_visible()
    return page.url


def set_signature(page: Page, signature: str):
    """From the channel page: its settings, the signature for agent replies."""
    page.get_by_role("link", name="Settings").click()
    field = page.get_by_role("textbox", name="Signature")
    field.fill(signature)
    page.get_by_role("button", name="Save signature").click()
    expect(page.get_by_role("textbox", name="Signature")).to_have_value(signature)


def open_phone(page: Page, base: str, endpoint: str) -> str:
    """On the sandbox's customer phone, the default customer's conversation with
    ``endpoint``; its URL."""
    page.goto(f"{base}/sandbox/phone/")
    page.get_by_label("Write to").select_option(label=endpoint)
    page.get_by_role("button", name="Open the conversation").click()
    expect(page.get_by_role("heading", name="Send as the customer")).to_be_visible()
    return page.url


def send_from_phone(page: Page, text: str):
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Send text").click()
    expect(page.get_by_role("status")).to_contain_text("(200)")


def open_inbox_conversation(page: Page, base: str, workspace: str, customer: str, text: str):
    """In the sandbox's Intercom inbox, wait for ``customer``'s conversation whose last
    part is ``text`` and open it."""
    page.goto(f"{base}/sandbox/intercom/inbox/")
    page.get_by_role("link", name=workspace, exact=True).click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=customer))
    reload_until(page, lambda: expect(row).to_contain_text(text))
    row.get_by_role("link", name=customer).click()
    expect(page.get_by_role("heading", name=customer, exact=True)).to_be_visible()


def customer_parts(page: Page) -> Locator:
    """The customer's messages in an inbox conversation."""
    return page.get_by_role("listitem").filter(has_text="(customer)")


def reply_in_inbox(page: Page, teammate: str, text: str):
    page.get_by_label("Teammate", exact=True).select_option(label=teammate)
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Reply").click()
    expect(page.get_by_role("status")).to_contain_text("Octopods answered 200.")


def log_row(page: Page, text: str) -> Locator:
    """The channel page's message log row of the message that reads ``text``."""
    log = page.get_by_role("region", name="Message log")
    return log.get_by_role("row").filter(has=page.get_by_role("cell", name=text, exact=True))


# --- a second person ---------------------------------------------------------------------


@pytest.fixture
def another_person(browser, console_errors) -> Callable[[], Page]:
    """Opens a page in a browser of its own (no shared sign-in), as a second person
    would; its console errors count with the first page's."""

    def open_page() -> Page:
        other = browser.new_context().new_page()
        other.set_default_timeout(TIMEOUT_MS)
        watch_console(other, console_errors)
        return other

    return open_page


# --- every test: its last page pictured, no CSP violation on any page ---------------------

_REPORTS = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    if report.failed and report.when == "call":
        report.sections.append(("screenshot", str(screenshot_path(item))))
    return report


def screenshot_path(item) -> Path:
    """artifacts/screenshots/<test name>.png; the browser, always Chromium, is left out of
    the name, other parameters are kept."""
    params = getattr(item, "callspec", None)
    ids = [str(v) for k, v in (params.params.items() if params else ()) if k != "browser_name"]
    name = "-".join([item.originalname, *ids])
    return SCREENSHOTS / (re.sub(r"[^\w.-]+", "_", name) + ".png")


def _last_opened(contexts: list, default: Page) -> Page:
    """The page the test opened last that is still open (a second person's, say)."""
    for context in reversed(contexts):
        pages = [p for p in context.pages if not p.is_closed()]
        if pages:
            return pages[-1]
    return default


@pytest.fixture(autouse=True)
def _every_page(request, browser, page, monkeypatch):
    """Watch every page of every browser context the test opens, whoever opens it: at
    the end, save a full-page screenshot of the last one (whatever the outcome, for CI to
    keep), close the extra contexts, and fail on any CSP violation reported."""
    contexts = [page.context]
    errors: list[str] = []

    def watched(context):
        context.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        return context

    new_context = browser.new_context

    def new_watched_context(*args, **kwargs):
        context = watched(new_context(*args, **kwargs))
        contexts.append(context)
        return context

    watched(page.context)
    monkeypatch.setattr(browser, "new_context", new_watched_context)
    yield
    failed = any(r.failed for r in request.node.stash.get(_REPORTS, {}).values())
    target = screenshot_path(request.node)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        _last_opened(contexts, page).screenshot(path=target, full_page=True)
    except PlaywrightError as error:
        # The picture is evidence, not the verdict: after a failure (a crashed page, say)
        # it must not hide the test's own error.
        if not failed:
            raise
        request.node.warn(pytest.PytestWarning(f"no screenshot of the last page: {error}"))
    finally:
        for context in contexts[1:]:
            context.close()
    if not failed:
        assert_no_csp_violations(errors)
