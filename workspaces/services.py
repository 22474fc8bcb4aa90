"""Writes for workspaces."""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import InboxAdmin, Status, Workspace

logger = logging.getLogger(__name__)


class WorkspaceConflict(Exception):
    """The provider workspace already belongs to another Octopods account."""


@dataclass(frozen=True)
class Connection:
    """What an OAuth connection proved: which provider workspace, and its tokens."""

    provider: str
    external_id: str
    name: str
    access_token: str
    refresh_token: str = ""
    token_expires_at: datetime | None = None
    # (external id, name, e-mail) of the provider workspace's teammates.
    admins: tuple[tuple[str, str, str], ...] = field(default=())


def workspace_connect(*, account, user, connection: Connection) -> tuple[Workspace, bool]:
    """Create the workspace, or refresh it when this account reconnects it.

    Returns (workspace, created). Raises WorkspaceConflict when another account owns
    the provider workspace; nothing changes then. The unique constraint decides races:
    of two concurrent first connections, the second insert fails and finds the first.
    """
    tokens = {
        "access_token": connection.access_token,
        "refresh_token": connection.refresh_token,
        "token_expires_at": connection.token_expires_at,
    }
    with transaction.atomic():
        try:
            with transaction.atomic():
                workspace = Workspace.objects.create(
                    account=account,
                    provider=connection.provider,
                    external_id=connection.external_id,
                    name=connection.name,
                    connected_by=user,
                    status=Status.ACTIVE,
                    **tokens,
                )
            created = True
        except IntegrityError:
            workspace = Workspace.objects.select_for_update().get(
                provider=connection.provider, external_id=connection.external_id
            )
            if workspace.account_id != account.pk:
                logger.info(
                    "%s workspace %s is owned by account %s; account %s was refused",
                    connection.provider,
                    connection.external_id,
                    workspace.account_id,
                    account.pk,
                )
                raise WorkspaceConflict from None
            workspace.name = connection.name
            workspace.status = Status.ACTIVE
            for name, value in tokens.items():
                setattr(workspace, name, value)
            workspace.save()
            created = False
        _replace_admins(workspace, connection.admins)
    return workspace, created


def _replace_admins(workspace: Workspace, admins) -> None:
    workspace.admins.all().delete()
    InboxAdmin.objects.bulk_create(
        InboxAdmin(workspace=workspace, external_id=external_id, name=name, email=email)
        for external_id, name, email in admins
    )


def workspace_store_tokens(
    *, workspace: Workspace, access_token: str, refresh_token: str, expires_at
) -> None:
    workspace.access_token = access_token
    workspace.refresh_token = refresh_token
    workspace.token_expires_at = expires_at
    workspace.save(
        update_fields=["access_token", "refresh_token", "token_expires_at", "updated_at"]
    )


def workspace_disconnect(*, workspace: Workspace) -> Workspace:
    """Stop using the connection: tokens forgotten, channels kept for a reconnect."""
    workspace.status = Status.DISCONNECTED
    workspace.access_token = ""
    workspace.refresh_token = ""
    workspace.token_expires_at = None
    workspace.save()
    return workspace


def workspace_uninstalled(*, provider: str, external_id: str) -> Workspace | None:
    """The provider says our app was uninstalled from this workspace."""
    with transaction.atomic():
        workspace = (
            Workspace.objects.select_for_update()
            .filter(provider=provider, external_id=external_id)
            .first()
        )
        if workspace is None:
            logger.info("uninstall notice for unknown %s workspace %s", provider, external_id)
            return None
        workspace_disconnect(workspace=workspace)
    logger.info("%s workspace %s (%s) was uninstalled", provider, external_id, workspace.pk)
    return workspace


def workspace_mark_needs_reconnect(*, workspace: Workspace) -> None:
    """The provider rejected the token: an admin must connect the workspace again."""
    updated = Workspace.objects.filter(pk=workspace.pk, status=Status.ACTIVE).update(
        status=Status.NEEDS_RECONNECT, updated_at=timezone.now()
    )
    if updated:
        logger.warning("workspace %s needs reconnecting: its token was rejected", workspace.pk)
    workspace.refresh_from_db(fields=["status", "updated_at"])


def workspace_remove(*, workspace: Workspace) -> None:
    """Delete the workspace and its channels."""
    logger.info("workspace %s removed from account %s", workspace.pk, workspace.account_id)
    workspace.delete()


def workspace_move(*, workspace: Workspace, to_account, moved_by=None) -> Workspace:
    """Move a workspace (with its channels) to another account, on a support request."""
    with transaction.atomic():
        workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
        from_account_id = workspace.account_id
        workspace.account = to_account
        workspace.save(update_fields=["account", "updated_at"])
    logger.info(
        "workspace %s moved from account %s to account %s by user %s",
        workspace.pk,
        from_account_id,
        to_account.pk,
        getattr(moved_by, "pk", None),
    )
    return workspace


def workspace_contact_match_set(*, workspace: Workspace, contact_match: str) -> None:
    workspace.contact_match = contact_match
    workspace.save(update_fields=["contact_match", "updated_at"])
