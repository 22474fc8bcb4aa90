"""The support admin at /support/."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Invitation, Membership, Role, User, hash_token
from channels.models import Channel
from tests.conftest import signed_in
from workspaces.models import Workspace

SECRET = "globex-secret-token"
NEW_PASSWORD = "a-long-pass-4567"


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_superuser(email="support@octopods.test", password="x-pass-9876")


@pytest.fixture
def support(staff):
    """A support signed in as a superuser (support staff)."""
    return signed_in(staff)


@pytest.fixture
def invitation(cast) -> Invitation:
    return Invitation.objects.create(
        account=cast.account,
        email="newbie@acme.test",
        role=Role.MEMBER,
        token_hash=hash_token("the-invitation-token"),
        invited_by=cast.admin,
        expires_at=timezone.now() + timedelta(days=7),
    )


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def move_post(client, workspaces, **extra):
    data = {"action": "move_to_account", "_selected_action": [w.pk for w in workspaces]}
    if "apply" not in extra:
        # The first POST comes from the change list's action bar.
        data.update({"index": "0", "select_across": "0"})
    data.update(extra)
    return client.post(changelist(Workspace), data)


def test_it_shows_every_changelist_and_change_page(cast, support, invitation):
    membership = Membership.objects.get(user=cast.admin)
    for obj in (cast.admin, cast.account, membership, invitation, cast.other_workspace):
        assert support.get(changelist(type(obj))).status_code == 200
        assert support.get(change(obj)).status_code == 200


def test_it_shows_the_add_pages_of_users_accounts_and_memberships(cast, support):
    for model in (User, Account, Membership):
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
        assert support.get(url).status_code == 200


def test_it_offers_no_add_page_for_invitations_or_workspaces(cast, support):
    assert support.get(reverse("admin:accounts_invitation_add")).status_code == 403
    assert support.get(reverse("admin:workspaces_workspace_add")).status_code == 403


def test_it_creates_a_user_from_an_email_and_a_password(support):
    response = support.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "new@acme.test",
            "password1": "a-long-pass-4567",
            "password2": "a-long-pass-4567",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(email="new@acme.test")
    assert user.check_password(NEW_PASSWORD)
    assert not user.is_staff


def test_it_refuses_a_user_whose_email_differs_only_in_case(cast, support):
    response = support.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "ADMIN@acme.test",
            "password1": "a-long-pass-4567",
            "password2": "a-long-pass-4567",
        },
    )

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.filter(email__iexact="admin@acme.test").count() == 1


def test_it_edits_a_user_without_a_username(cast, support):
    response = support.post(
        change(cast.member),
        {
            "email": "member@acme.test",
            "name": "Mia Member",
            "is_active": "on",
            "last_login_0": "",
            "last_login_1": "",
        },
    )

    assert response.status_code == 302
    cast.member.refresh_from_db()
    assert cast.member.name == "Mia Member"


def test_it_searches_users_by_email(cast, support):
    response = support.get(changelist(User), {"q": "outsider"})

    assert list(response.context["cl"].result_list) == [cast.outsider]


def test_it_searches_workspaces_by_account_name(cast, support):
    Workspace.objects.create(
        account=cast.account, provider="hubspot", external_id="acme-hub", name="Acme HubSpot"
    )

    response = support.get(changelist(Workspace), {"q": "globex"})

    assert list(response.context["cl"].result_list) == [cast.other_workspace]


def test_it_searches_memberships_by_user_email_and_account_name(cast, support):
    by_email = support.get(changelist(Membership), {"q": "outsider@globex"})
    by_account = support.get(changelist(Membership), {"q": "acme support"})

    assert [m.user for m in by_email.context["cl"].result_list] == [cast.outsider]
    assert {m.user for m in by_account.context["cl"].result_list} == {cast.admin, cast.member}


def test_it_searches_invitations_by_account_name(cast, support, invitation):
    Invitation.objects.create(
        account=cast.other_account,
        email="someone@globex.test",
        token_hash=hash_token("another-token"),
        expires_at=timezone.now() + timedelta(days=7),
    )

    response = support.get(changelist(Invitation), {"q": "acme"})

    assert list(response.context["cl"].result_list) == [invitation]


def test_it_filters_memberships_by_role(cast, support):
    response = support.get(changelist(Membership), {"role__exact": Role.MEMBER})

    assert [m.user for m in response.context["cl"].result_list] == [cast.member]


def test_it_never_shows_the_workspace_tokens(cast, support):
    workspace = cast.other_workspace
    workspace.refresh_token = "globex-refresh-secret"
    workspace.save()

    pages = [
        support.get(changelist(Workspace)),
        support.get(changelist(Workspace), {"q": "globex"}),
        support.get(change(workspace)),
        support.get(reverse("admin:workspaces_workspace_history", args=[workspace.pk])),
        support.get(reverse("admin:workspaces_workspace_delete", args=[workspace.pk])),
    ]

    for response in pages:
        html = response.content.decode()
        assert SECRET not in html
        assert "globex-refresh-secret" not in html
        assert "access_token" not in html
        assert "refresh_token" not in html
    assert "access_token" not in pages[2].context["adminform"].form.fields


def test_it_shows_whether_the_workspace_has_a_token(cast, support):
    tokenless = Workspace.objects.create(
        account=cast.account, provider="hubspot", external_id="acme-hub", name="Acme HubSpot"
    )

    with_token = support.get(change(cast.other_workspace)).content.decode()
    without_token = support.get(change(tokenless)).content.decode()

    assert "Has token" in with_token
    assert 'alt="True"' in with_token
    assert 'alt="False"' in without_token


def test_it_saves_the_workspace_change_form_without_touching_the_tokens(cast, support):
    workspace = cast.other_workspace

    response = support.post(
        change(workspace),
        {"name": "Globex Intercom (EU)", "status": "needs_reconnect", "connected_by": ""},
    )

    assert response.status_code == 302
    workspace.refresh_from_db()
    assert workspace.name == "Globex Intercom (EU)"
    assert workspace.status == "needs_reconnect"
    assert workspace.account == cast.other_account
    assert workspace.access_token == SECRET


def test_it_shows_the_move_confirmation_page_first(cast, support):
    Channel.objects.create(workspace=cast.other_workspace, kind="sms", name="Globex SMS")
    Channel.objects.create(workspace=cast.other_workspace, kind="telegram", name="Globex Bot")

    response = move_post(support, [cast.other_workspace])

    assert response.status_code == 200
    assert response.templates[0].name == "admin/workspaces/move_workspace.html"
    workspaces = list(response.context["workspaces"])
    assert workspaces == [cast.other_workspace]
    assert workspaces[0].channel_count == 2
    html = response.content.decode()
    assert "Globex Intercom" in html
    assert 'name="to_account"' in html
    assert 'name="apply"' in html
    assert SECRET not in html
    cast.other_workspace.refresh_from_db()
    assert cast.other_workspace.account == cast.other_account


def test_it_moves_the_workspaces_and_their_channels_on_apply(cast, support):
    channel = Channel.objects.create(
        workspace=cast.other_workspace, kind="whatsapp", name="Globex WhatsApp"
    )
    second = Workspace.objects.create(
        account=cast.other_account, provider="hubspot", external_id="globex-hub", name="Globex Hub"
    )

    response = move_post(
        support, [cast.other_workspace, second], apply="yes", to_account=cast.account.pk
    )

    assert response.status_code == 302
    assert response.url == changelist(Workspace)
    for workspace in (cast.other_workspace, second):
        workspace.refresh_from_db()
        assert workspace.account == cast.account
    assert Channel.objects.get(pk=channel.pk).workspace == cast.other_workspace
    assert list(Channel.objects.for_account(cast.account)) == [channel]
    cast.other_workspace.refresh_from_db()
    assert cast.other_workspace.access_token == SECRET
    message = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "Moved 2 workspaces to Acme Support" in message
    assert "Globex Intercom (from Globex)" in message
    assert LogEntry.objects.filter(object_id=str(second.pk)).count() == 1


def test_it_leaves_a_workspace_already_in_the_target_account_alone(cast, support):
    response = move_post(
        support, [cast.other_workspace], apply="yes", to_account=cast.other_account.pk
    )

    assert response.status_code == 302
    message = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "Already in Globex" in message
    assert not LogEntry.objects.exists()


def test_it_shows_an_error_and_moves_nothing_for_an_invalid_target(cast, support):
    for target in ("", "999999", "not-a-number"):
        response = move_post(support, [cast.other_workspace], apply="yes", to_account=target)

        assert response.status_code == 200
        assert response.context["form"].errors["to_account"]
        assert 'class="errorlist' in response.content.decode()
        cast.other_workspace.refresh_from_db()
        assert cast.other_workspace.account == cast.other_account


def test_it_lists_accounts_with_member_counts(cast, support):
    response = support.get(changelist(Account))

    counts = {a.name: a._member_count for a in response.context["cl"].result_list}
    assert counts == {"Acme Support": 2, "Globex": 1}


def test_it_lists_accounts_in_a_constant_number_of_queries(cast, support):
    def queries_for_changelist():
        with CaptureQueriesContext(connection) as context:
            response = support.get(changelist(Account))
        assert response.status_code == 200
        return len(context.captured_queries)

    Account.objects.exclude(pk=cast.account.pk).delete()
    one = queries_for_changelist()
    for n in range(19):
        account = Account.objects.create(name=f"Account {n:02}")
        user = User.objects.create_user(email=f"user{n}@example.test")
        Membership.objects.create(user=user, account=account, role=Role.ADMIN)
    twenty = queries_for_changelist()

    assert Account.objects.count() == 20
    assert twenty == one


def test_it_never_shows_the_invitation_token_hash(cast, support, invitation):
    pages = [support.get(changelist(Invitation)), support.get(change(invitation))]

    for response in pages:
        html = response.content.decode()
        assert invitation.token_hash not in html
        assert "token_hash" not in html
    assert "token_hash" not in pages[1].context["adminform"].form.fields


def test_it_changes_an_invitations_role_only(cast, support, invitation):
    response = support.post(change(invitation), {"role": Role.ADMIN, "email": "evil@example.test"})

    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.role == Role.ADMIN
    assert invitation.email == "newbie@acme.test"
    assert invitation.token_hash == hash_token("the-invitation-token")


def test_it_refuses_to_demote_the_last_admin_of_an_account(cast, support):
    membership = Membership.objects.get(user=cast.admin)

    response = support.post(change(membership), {"role": Role.MEMBER})

    assert response.status_code == 200
    assert "needs at least one admin" in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN


def test_it_demotes_an_admin_when_another_admin_remains(cast, support):
    Membership.objects.filter(user=cast.member).update(role=Role.ADMIN)
    membership = Membership.objects.get(user=cast.admin)

    response = support.post(change(membership), {"role": Role.MEMBER})

    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.MEMBER


def _account_form(account, rows):
    data = {
        "name": account.name,
        "memberships-TOTAL_FORMS": str(len(rows)),
        "memberships-INITIAL_FORMS": str(sum(1 for row in rows if row.get("id"))),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"memberships-{i}-{key}"] = value
        data[f"memberships-{i}-account"] = account.pk
    return data


def test_it_refuses_to_leave_an_account_without_an_admin_in_the_inline(cast, support):
    admin = Membership.objects.get(user=cast.admin)
    member = Membership.objects.get(user=cast.member)
    rows = [
        {"id": admin.pk, "user": cast.admin.pk, "role": Role.MEMBER},
        {"id": member.pk, "user": cast.member.pk, "role": Role.MEMBER},
    ]

    response = support.post(change(cast.account), _account_form(cast.account, rows))

    assert response.status_code == 200
    assert "needs at least one admin" in response.content.decode()
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


def test_it_swaps_admins_in_the_inline(cast, support):
    admin = Membership.objects.get(user=cast.admin)
    member = Membership.objects.get(user=cast.member)
    rows = [
        {"id": admin.pk, "user": cast.admin.pk, "role": Role.MEMBER},
        {"id": member.pk, "user": cast.member.pk, "role": Role.ADMIN},
    ]

    response = support.post(change(cast.account), _account_form(cast.account, rows))

    assert response.status_code == 302
    admin.refresh_from_db()
    member.refresh_from_db()
    assert (admin.role, member.role) == (Role.MEMBER, Role.ADMIN)


def test_it_redirects_non_staff_users_away_from_support(cast):
    for url in ("/support/", changelist(Workspace), change(cast.other_workspace)):
        response = cast.admin_client.get(url)

        assert response.status_code == 302
        assert response.url.startswith("/support/login/")


def test_it_redirects_anonymous_visitors_to_the_login(cast, client):
    response = client.get(changelist(Account))

    assert response.status_code == 302
    assert response.url.startswith("/support/login/")


def test_it_keeps_the_last_admin_when_support_deletes_memberships(cast, support):
    admin_membership = Membership.objects.get(user=cast.admin)
    member_membership = Membership.objects.get(user=cast.member)

    response = support.post(
        changelist(Membership),
        {
            "action": "delete_selected",
            "post": "yes",
            "_selected_action": [admin_membership.pk, member_membership.pk],
        },
        follow=True,
    )

    assert "The last admin can&#x27;t be removed" in response.content.decode()
    assert Membership.objects.filter(pk=admin_membership.pk).exists()
    assert not Membership.objects.filter(pk=member_membership.pk).exists()
