"""Writes for accounts, memberships and invitations."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import (
    INVITATION_LIFETIME,
    Account,
    Invitation,
    Membership,
    Role,
    hash_token,
    new_token,
)

logger = logging.getLogger(__name__)


class TeamError(Exception):
    """A team change that would break a rule; the message is shown to the user."""


class InvitationUnavailable(Exception):
    """The invitation cannot be accepted; ``reason`` is one of invitation_problem's."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def account_create_for_signup(*, user, name: str) -> Account:
    with transaction.atomic():
        account = Account.objects.create(name=name.strip())
        Membership.objects.create(user=user, account=account, role=Role.ADMIN)
    return account


def invitation_url(token: str) -> str:
    return settings.PUBLIC_BASE_URL + reverse("accounts:invitation", args=[token])


def invitation_create(*, account: Account, email: str, role: str, invited_by) -> Invitation:
    """Invite ``email`` to ``account``; replaces any pending invitation to that address."""
    email = email.strip().lower()
    if Membership.objects.filter(account=account, user__email__iexact=email).exists():
        raise TeamError(f"{email} is already a member of {account.name}.")
    token = new_token()
    with transaction.atomic():
        Invitation.objects.for_account(account).filter(
            email__iexact=email, accepted_at__isnull=True
        ).delete()
        invitation = Invitation.objects.create(
            account=account,
            email=email,
            role=role,
            token_hash=hash_token(token),
            invited_by=invited_by,
            expires_at=timezone.now() + INVITATION_LIFETIME,
        )
    context = {
        "account": account,
        "invited_by": invited_by,
        "role": invitation.get_role_display(),
        "url": invitation_url(token),
        "expires_at": invitation.expires_at,
    }
    send_mail(
        subject=f"[Octopods] You're invited to join {account.name}",
        message=render_to_string("accounts/email/invitation.txt", context),
        from_email=None,
        recipient_list=[email],
    )
    return invitation


def invitation_for_token(token: str) -> Invitation | None:
    return Invitation.objects.select_related("account").filter(token_hash=hash_token(token)).first()


def invitation_problem(invitation: Invitation | None, *, email: str | None = None) -> str | None:
    """Why this invitation cannot be accepted (by ``email``), or None when it can."""
    if invitation is None:
        return "invalid"
    if invitation.is_used:
        return "used"
    if invitation.is_expired:
        return "expired"
    if email is not None and email.strip().lower() != invitation.email.lower():
        return "wrong_account"
    return None


def invitation_accept(*, invitation: Invitation, user) -> Membership:
    """Join the invitation's account. The invitation is used at most once."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        problem = invitation_problem(invitation, email=user.email)
        if problem:
            raise InvitationUnavailable(problem)
        membership, created = Membership.objects.get_or_create(
            user=user, account=invitation.account, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    logger.info(
        "invitation %s accepted by user %s (account %s, new=%s)",
        invitation.pk,
        user.pk,
        invitation.account_id,
        created,
    )
    return membership


def invitation_revoke(*, invitation: Invitation) -> None:
    invitation.delete()


def _lock_admins(account_id: int) -> list[int]:
    # Locking every admin row of the account serialises concurrent demotions and
    # removals, so two admins cannot each demote the other and leave none.
    return list(
        Membership.objects.select_for_update()
        .filter(account_id=account_id, role=Role.ADMIN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def membership_change_role(*, membership: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise TeamError("Choose a valid role.")
    with transaction.atomic():
        admins = _lock_admins(membership.account_id)
        membership.refresh_from_db()
        if membership.role == Role.ADMIN and role != Role.ADMIN and admins == [membership.pk]:
            raise TeamError("The last admin can't be demoted. Make another member an admin first.")
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def membership_remove(*, membership: Membership) -> None:
    with transaction.atomic():
        admins = _lock_admins(membership.account_id)
        membership.refresh_from_db()
        if membership.role == Role.ADMIN and admins == [membership.pk]:
            raise TeamError("The last admin can't be removed. Make another member an admin first.")
        membership.delete()
