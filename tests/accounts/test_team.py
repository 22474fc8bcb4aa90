import pytest

from accounts.models import Account, Membership, Role
from tests.conftest import make_user, signed_in

pytestmark = pytest.mark.django_db


def test_it_lists_members_and_roles(cast):
    html = cast.member_client.get("/team/").content.decode()
    assert "admin@acme.test" in html
    assert "member@acme.test" in html
    assert "outsider@globex.test" not in html
    # Members read the page but get no controls.
    assert "Change role" not in html
    assert "Send invitation" not in html


def test_admins_see_the_controls(cast):
    html = cast.admin_client.get("/team/").content.decode()
    assert "Change role" in html
    assert "Send invitation" in html


def test_admins_change_roles(cast):
    membership = Membership.objects.get(user=cast.member)
    response = cast.admin_client.post(f"/team/members/{membership.pk}/role/", {"role": "admin"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN


def test_an_invalid_role_is_refused(cast):
    membership = Membership.objects.get(user=cast.member)
    response = cast.admin_client.post(
        f"/team/members/{membership.pk}/role/", {"role": "owner"}, follow=True
    )
    assert "Choose a valid role." in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == Role.MEMBER


def test_admins_remove_members(cast):
    membership = Membership.objects.get(user=cast.member)
    response = cast.admin_client.post(f"/team/members/{membership.pk}/remove/", follow=True)
    assert "member@acme.test was removed from Acme Support." in response.content.decode()
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_the_last_admin_cannot_be_demoted(cast):
    membership = Membership.objects.get(user=cast.admin)
    response = cast.admin_client.post(
        f"/team/members/{membership.pk}/role/", {"role": "member"}, follow=True
    )
    assert "The last admin can&#x27;t be demoted" in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN


def test_the_last_admin_cannot_be_removed(cast):
    membership = Membership.objects.get(user=cast.admin)
    response = cast.admin_client.post(f"/team/members/{membership.pk}/remove/", follow=True)
    assert "The last admin can&#x27;t be removed" in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_an_admin_can_step_down_when_another_admin_remains(cast):
    Membership.objects.filter(user=cast.member).update(role=Role.ADMIN)
    membership = Membership.objects.get(user=cast.admin)
    cast.admin_client.post(f"/team/members/{membership.pk}/role/", {"role": "member"})
    membership.refresh_from_db()
    assert membership.role == Role.MEMBER
    # Now the former member is the last admin.
    other = Membership.objects.get(user=cast.member)
    cast.member_client.post(f"/team/members/{other.pk}/remove/")
    assert Membership.objects.filter(pk=other.pk).exists()


def test_members_cannot_change_roles_or_remove(cast):
    admin = Membership.objects.get(user=cast.admin)
    assert (
        cast.member_client.post(f"/team/members/{admin.pk}/role/", {"role": "member"}).status_code
        == 403
    )
    assert cast.member_client.post(f"/team/members/{admin.pk}/remove/").status_code == 403
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


def test_another_accounts_membership_is_a_404(cast):
    theirs = Membership.objects.get(user=cast.outsider)
    assert (
        cast.admin_client.post(f"/team/members/{theirs.pk}/role/", {"role": "member"}).status_code
        == 404
    )
    assert cast.admin_client.post(f"/team/members/{theirs.pk}/remove/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.role == Role.ADMIN


def test_a_removed_user_with_no_account_gets_a_clear_page(cast):
    Membership.objects.filter(user=cast.member).delete()
    response = cast.member_client.get("/")
    assert response.status_code == 403
    assert "You're not a member of any account" in response.content.decode()


# --- The account switcher -------------------------------------------------------------


@pytest.fixture
def agency(cast):
    """The admin of Acme is also a member of a second account."""
    second = Account.objects.create(name="Beta Brand")
    Membership.objects.create(user=cast.admin, account=second, role=Role.MEMBER)
    return second


def test_the_switcher_lists_only_the_users_accounts(cast, agency):
    html = cast.admin_client.get("/").content.decode()
    assert "Beta Brand" in html
    assert "Globex" not in html


def test_switching_sets_the_current_account(cast, agency):
    client = cast.admin_client
    response = client.post("/team/switch/", {"account": agency.pk})
    assert response.status_code == 302
    html = client.get("/team/").content.decode()
    assert "Team of Beta Brand" in html
    # A member there: no admin controls.
    assert "Send invitation" not in html


def test_switching_to_someone_elses_account_is_a_404(cast, agency):
    client = cast.admin_client
    response = client.post("/team/switch/", {"account": cast.other_account.pk})
    assert response.status_code == 404
    assert "Team of Acme Support" in client.get("/team/").content.decode()


@pytest.mark.parametrize("account", ["9" * 30, "-1", "0"])
def test_switching_to_an_id_no_account_can_have_is_a_404(cast, account):
    # Beyond a 64-bit integer, SQLite raised OverflowError (a 500).
    assert cast.admin_client.post("/team/switch/", {"account": account}).status_code == 404


def test_a_forged_session_account_is_ignored(cast):
    client = cast.admin_client
    session = client.session
    session["current_account_id"] = cast.other_account.pk
    session.save()
    html = client.get("/team/").content.decode()
    assert "Team of Acme Support" in html
    assert "outsider@globex.test" not in html


def test_a_user_keeps_working_after_losing_the_current_account(cast, agency):
    client = cast.admin_client
    client.post("/team/switch/", {"account": agency.pk})
    Membership.objects.filter(user=cast.admin, account=agency).delete()
    assert "Team of Acme Support" in client.get("/team/").content.decode()


def test_a_new_user_with_two_accounts_starts_in_the_oldest(db):
    user = make_user("two@x.test")
    first = Account.objects.create(name="First")
    second = Account.objects.create(name="Second")
    Membership.objects.create(user=user, account=first, role=Role.MEMBER)
    Membership.objects.create(user=user, account=second, role=Role.ADMIN)
    assert "Team of First" in signed_in(user).get("/team/").content.decode()
