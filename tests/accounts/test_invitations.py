import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Invitation, Membership, Role, User, hash_token
from tests.conftest import make_user, signed_in

pytestmark = pytest.mark.django_db


def invite(client, email="new@acme.test", role=Role.MEMBER):
    return client.post("/team/invite/", {"email": email, "role": role})


def link_token(message) -> str:
    return re.search(r"/team/join/([^/\s]+)/", message.body).group(1)


def test_it_emails_a_link_and_stores_only_the_token_hash(cast):
    response = invite(cast.admin_client)
    assert response.status_code == 302
    assert mail.outbox[0].to == ["new@acme.test"]
    token = link_token(mail.outbox[0])
    invitation = Invitation.objects.get()
    assert invitation.token_hash == hash_token(token)
    assert token not in invitation.token_hash
    assert invitation.account == cast.account
    assert invitation.expires_at - timezone.now() > timedelta(days=6, hours=23)


def test_members_cannot_invite(cast):
    response = invite(cast.member_client)
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_it_refuses_to_invite_an_existing_member(cast):
    response = invite(cast.admin_client, email="member@acme.test")
    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    assert not Invitation.objects.exists()


def test_it_refuses_a_bad_email(cast):
    response = invite(cast.admin_client, email="not-an-email")
    assert response.status_code == 400
    assert not Invitation.objects.exists()


def test_it_refuses_an_address_longer_than_an_address_can_be(cast):
    # 255 characters pass the e-mail validator (320) but not the column (254).
    response = invite(cast.admin_client, email="a" * 64 + "@" + "b" * 60 + ".example" * 17)
    assert response.status_code == 400
    assert "at most 254 characters" in response.content.decode()
    assert not Invitation.objects.exists()


def test_a_signed_in_user_joins_with_the_role_given(cast, client):
    invite(cast.admin_client, email="joiner@else.test", role=Role.ADMIN)
    token = link_token(mail.outbox[0])
    joiner = make_user("joiner@else.test")
    client = signed_in(joiner)
    page = client.get(f"/team/join/{token}/")
    assert page.status_code == 200
    assert "Join Acme Support" in page.content.decode()
    response = client.post(f"/team/join/{token}/")
    assert response.status_code == 302
    assert Membership.objects.get(user=joiner, account=cast.account).role == Role.ADMIN
    # The current account is now the one joined.
    assert "Acme Support" in client.get("/").content.decode()


def test_signing_up_through_the_link_joins_without_creating_an_account(cast, client):
    invite(cast.admin_client, email="fresh@acme.test")
    token = link_token(mail.outbox[0])
    page = client.get(f"/team/join/{token}/")
    assert "Sign up to join" in page.content.decode()
    form = client.get("/auth/signup/")
    assert "account_name" not in form.context["form"].fields
    response = client.post(
        "/auth/signup/",
        {"email": "fresh@acme.test", "password1": "s3cret-Pass-99", "password2": "s3cret-Pass-99"},
    )
    assert response.status_code == 302
    user = User.objects.get(email="fresh@acme.test")
    assert list(Membership.objects.filter(user=user).values_list("account_id", "role")) == [
        (cast.account.pk, Role.MEMBER)
    ]
    # The link proved the address: signed in straight away, no second verification mail.
    assert len(mail.outbox) == 1
    assert client.get("/").status_code == 200
    assert Invitation.objects.get().accepted_by == user


def test_signing_up_through_the_link_with_another_address_is_refused(cast, client):
    invite(cast.admin_client, email="fresh@acme.test")
    token = link_token(mail.outbox[0])
    client.get(f"/team/join/{token}/")
    response = client.post(
        "/auth/signup/",
        {"email": "other@acme.test", "password1": "s3cret-Pass-99", "password2": "s3cret-Pass-99"},
    )
    assert response.status_code == 200
    assert "This invitation was sent to fresh@acme.test" in response.content.decode()
    assert not User.objects.filter(email="other@acme.test").exists()


def test_an_expired_link_gives_a_clear_page(cast):
    invite(cast.admin_client, email="late@acme.test")
    token = link_token(mail.outbox[0])
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    client = signed_in(make_user("late@acme.test"))
    for method in (client.get, client.post):
        response = method(f"/team/join/{token}/")
        assert response.status_code == 410
        assert "This invitation has expired" in response.content.decode()
    assert not Membership.objects.filter(user__email="late@acme.test").exists()


def test_a_used_link_gives_a_clear_page(cast):
    invite(cast.admin_client, email="twice@acme.test")
    token = link_token(mail.outbox[0])
    client = signed_in(make_user("twice@acme.test"))
    client.post(f"/team/join/{token}/")
    response = client.post(f"/team/join/{token}/")
    assert response.status_code == 410
    assert "already been used" in response.content.decode()


def test_a_link_for_another_address_gives_a_clear_page(cast):
    invite(cast.admin_client, email="someone@acme.test")
    token = link_token(mail.outbox[0])
    response = cast.outsider_client.post(f"/team/join/{token}/")
    assert response.status_code == 403
    assert "This invitation is for someone else" in response.content.decode()
    assert not Membership.objects.filter(user=cast.outsider, account=cast.account).exists()


def test_a_wrong_token_gives_a_clear_page(client, cast):
    response = client.get("/team/join/not-a-real-token/")
    assert response.status_code == 404
    assert "This invitation link isn't valid" in response.content.decode()


def test_reinviting_replaces_the_pending_invitation(cast):
    invite(cast.admin_client, email="again@acme.test")
    first = link_token(mail.outbox[0])
    invite(cast.admin_client, email="again@acme.test", role=Role.ADMIN)
    assert Invitation.objects.count() == 1
    client = signed_in(make_user("again@acme.test"))
    assert client.get(f"/team/join/{first}/").status_code == 404


def test_admins_cancel_invitations_of_their_account_only(cast):
    invite(cast.admin_client, email="cancel@acme.test")
    invitation = Invitation.objects.get()
    assert (
        cast.outsider_client.post(f"/team/invitations/{invitation.pk}/cancel/").status_code == 404
    )
    assert cast.member_client.post(f"/team/invitations/{invitation.pk}/cancel/").status_code == 403
    assert Invitation.objects.exists()
    assert cast.admin_client.post(f"/team/invitations/{invitation.pk}/cancel/").status_code == 302
    assert not Invitation.objects.exists()
