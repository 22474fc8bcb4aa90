"""Writes for workspaces."""

import logging

from django.db import transaction

from .models import Workspace

logger = logging.getLogger(__name__)


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
