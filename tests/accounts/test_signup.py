import os
import re
import uuid

import pytest
import redis
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from accounts.models import Account, Membership, Role, User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

FORM = {
    "account_name": "Acme Support",
    "email": "founder@acme.test",
    "password1": "s3cret-Pass-99",
    "password2": "s3cret-Pass-99",
}


def confirmation_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/auth/confirm-email/\S+/)", message.body).group(1)


def test_it_creates_the_account_and_makes_the_user_its_admin(client):
    response = client.post("/auth/signup/", FORM)
    assert response.status_code == 302
    user = User.objects.get(email="founder@acme.test")
    membership = Membership.objects.get(user=user)
    assert membership.role == Role.ADMIN
    assert membership.account.name == "Acme Support"


def test_an_address_longer_than_the_column_is_refused_not_cut(client):
    # 260 characters pass the e-mail validator (320); they were once stored cut to 254,
    # a wrong address, and signing up with it again was a 500.
    email = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".com"
    for _ in range(2):
        response = client.post("/auth/signup/", {**FORM, "email": email})
        assert response.status_code == 200
        assert "at most 254 characters" in str(response.context["form"].errors["email"])
    assert not User.objects.exists()


def test_it_asks_for_the_account_name(client):
    response = client.post("/auth/signup/", {**FORM, "account_name": ""})
    assert response.status_code == 200
    assert "account_name" in response.context["form"].errors
    assert not User.objects.exists()
    assert not Account.objects.exists()


def test_it_requires_email_verification_before_signing_in(client):
    client.post("/auth/signup/", FORM)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["founder@acme.test"]
    # Not signed in yet: the landing page sends the visitor to sign in.
    assert client.get("/").status_code == 302
    response = client.post(
        "/auth/login/", {"login": "founder@acme.test", "password": "s3cret-Pass-99"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/auth/confirm-email/")
    assert not EmailAddress.objects.get(email="founder@acme.test").verified


def test_it_lands_on_the_welcome_state_after_verification(client):
    client.post("/auth/signup/", FORM)
    path = confirmation_path(mail.outbox[0])
    response = client.post(path)
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="founder@acme.test").verified
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Thanks for signing up!" in html
    assert "Step 1 of 2" in html


def test_it_rejects_a_second_signup_with_the_same_email(client):
    client.post("/auth/signup/", FORM)
    client.post("/auth/signup/", {**FORM, "account_name": "Another"})
    assert User.objects.count() == 1
    assert Account.objects.count() == 1


def test_it_sends_a_password_reset_link_that_works(client, cast):
    client.post("/auth/password/reset/", {"email": cast.admin.email})
    assert len(mail.outbox) == 1
    path = re.search(r"https?://[^/\s]+(/auth/password/reset/key/\S+/)", mail.outbox[0].body)
    response = client.get(path.group(1), follow=True)
    form_path = response.redirect_chain[-1][0] if response.redirect_chain else path.group(1)
    response = client.post(
        form_path, {"password1": "brand-new-Pass-42", "password2": "brand-new-Pass-42"}
    )
    assert response.status_code == 302
    cast.admin.refresh_from_db()
    assert cast.admin.check_password("brand-new-Pass-42")


def test_it_rate_limits_failed_logins(client, cast):
    for _ in range(5):
        response = client.post("/auth/login/", {"login": cast.admin.email, "password": "wrong"})
        assert "Too many failed login attempts" not in response.content.decode()
    # allauth allows 5 failures per 5 minutes per address; after that even the right
    # password is refused until the window passes.
    response = client.post("/auth/login/", {"login": cast.admin.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_rate_limits_hold_on_the_production_redis_cache(client, cast, settings):
    """Production keeps rate-limit counters in Redis, shared by every web process."""
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("REDIS_URL is not set (CI always sets it)")
    prefix = f"test-{uuid.uuid4()}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
        }
    }
    for _ in range(5):
        client.post("/auth/login/", {"login": cast.admin.email, "password": "wrong"})
    # The counters are in Redis, where every web process sees them.
    connection = redis.Redis.from_url(redis_url)
    keys = connection.keys(f"{prefix}:*")
    assert keys
    response = Client().post("/auth/login/", {"login": cast.admin.email, "password": PASSWORD})
    assert "Too many failed login attempts" in response.content.decode()
    connection.delete(*keys)


def test_adding_an_address_longer_than_the_column_is_a_form_error(cast):
    email = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".com"
    response = cast.admin_client.post("/auth/email/", {"email": email, "action_add": ""})
    assert response.status_code == 200
    assert "at most 254 characters" in response.content.decode()
    assert not EmailAddress.objects.filter(email__startswith="aaaa").exists()
