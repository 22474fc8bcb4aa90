"""Reads for accounts and memberships."""

from octopods.prepared import Prepared

from .models import Invitation, Membership

SESSION_ACCOUNT_KEY = "current_account_id"


def memberships_for_request(
    *, user, account_id: int | None
) -> tuple[Membership | None, list[Membership]]:
    """The membership a request acts in (the session's account's, else the user's
    oldest) and all of the user's memberships by account name (the account switcher's
    list), from one query."""
    memberships = memberships_for_user(user=user)
    current = None
    if account_id is not None:
        current = next((m for m in memberships if m.account_id == account_id), None)
    if current is None and memberships:
        current = min(memberships, key=lambda m: (m.created_at, m.pk))
    return current, memberships


# Every signed-in page reads these: prepared once (octopods/prepared.py).
_memberships = Prepared(
    lambda user: (
        Membership.objects.select_related("account").filter(user_id=user).order_by("account__name")
    ),
    int,
)


def memberships_for_user(*, user) -> list[Membership]:
    return _memberships.all(user.pk)


def members_for_account(*, account) -> list[Membership]:
    return list(
        Membership.objects.for_account(account).select_related("user").order_by("user__email")
    )


def pending_invitations_for_account(*, account) -> list[Invitation]:
    return list(Invitation.objects.for_account(account).pending().select_related("invited_by"))
