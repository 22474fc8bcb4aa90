"""Reads for accounts and memberships."""

from .models import Invitation, Membership

SESSION_ACCOUNT_KEY = "current_account_id"


def membership_for_request(*, user, account_id: int | None) -> Membership | None:
    """The user's membership in the session's account, else their oldest one."""
    memberships = Membership.objects.select_related("account").filter(user=user)
    if account_id is not None:
        membership = memberships.filter(account_id=account_id).first()
        if membership is not None:
            return membership
    return memberships.order_by("created_at", "pk").first()


def memberships_for_user(*, user) -> list[Membership]:
    return list(
        Membership.objects.select_related("account").filter(user=user).order_by("account__name")
    )


def members_for_account(*, account) -> list[Membership]:
    return list(
        Membership.objects.for_account(account).select_related("user").order_by("user__email")
    )


def pending_invitations_for_account(*, account) -> list[Invitation]:
    return list(Invitation.objects.for_account(account).pending().select_related("invited_by"))
