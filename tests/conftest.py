"""The shared cast: an admin and a member of one account, and an outsider who is the
admin of another account with a workspace of its own."""

import os
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import Account, Membership, Role, User
from workspaces.models import Provider, Workspace

PASSWORD = "correct-horse-battery-9"

# In CI every test runs against the real services; nothing may silently fall back.
if os.environ.get("CI"):
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine != "octopods.postgresql":
        raise RuntimeError(f"CI must run the tests on PostgreSQL (DATABASE_URL); got {engine}")
    if not os.environ.get("REDIS_URL"):
        raise RuntimeError("CI must run the tests with REDIS_URL set")


def make_user(email: str) -> User:
    from allauth.account.models import EmailAddress

    user = User.objects.create_user(email=email, password=PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@dataclass
class Cast:
    account: Account
    admin: User
    member: User
    other_account: Account
    outsider: User
    other_workspace: Workspace

    @property
    def admin_client(self) -> Client:
        return signed_in(self.admin)

    @property
    def member_client(self) -> Client:
        return signed_in(self.member)

    @property
    def outsider_client(self) -> Client:
        return signed_in(self.outsider)


@pytest.fixture
def cast(db) -> Cast:
    account = Account.objects.create(name="Acme Support")
    admin = make_user("admin@acme.test")
    member = make_user("member@acme.test")
    Membership.objects.create(user=admin, account=account, role=Role.ADMIN)
    Membership.objects.create(user=member, account=account, role=Role.MEMBER)

    other_account = Account.objects.create(name="Globex")
    outsider = make_user("outsider@globex.test")
    Membership.objects.create(user=outsider, account=other_account, role=Role.ADMIN)
    other_workspace = Workspace.objects.create(
        account=other_account,
        provider=Provider.INTERCOM,
        external_id="globex-app",
        name="Globex Intercom",
        connected_by=outsider,
        access_token="globex-secret-token",
    )
    return Cast(account, admin, member, other_account, outsider, other_workspace)


@pytest.fixture(autouse=True)
def _fresh_provider_connections():
    """Provider calls keep their connections open (integrations/http.py). A test's live
    server thread kept open would serve the next test's calls on the database it was
    given before — a test that pointed the database elsewhere leaves such threads —
    so each test starts with none."""
    from integrations.http import reset_pool

    reset_pool()
    yield
    reset_pool()


@pytest.fixture(autouse=True)
def _fresh_cache():
    # allauth's rate limits live in the cache; one test's sign-ups must not throttle
    # the next test's.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _no_correlation_id_left_behind():
    """Every correlation id is put back when its block ends (octopods/logs.py): one
    left behind would be logged against the next request or message of the thread."""
    yield
    from octopods import logs

    assert logs.current() == "", "a correlation id outlived its block"
