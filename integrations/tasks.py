"""Periodic upkeep of inbox connections."""

import logging

from celery import shared_task

from workspaces.models import Status, Workspace

from .base import ProviderError
from .services import connection_check

logger = logging.getLogger(__name__)


@shared_task(name="integrations.check_connections", ignore_result=True)
def check_connections() -> None:
    """Wake one check per active workspace, so a revoked token is noticed (and shown
    as Needs reconnect) before a customer message is held up by it."""
    for workspace_id in Workspace.objects.filter(status=Status.ACTIVE).values_list("pk", flat=True):
        check_connection.delay(workspace_id)


@shared_task(name="integrations.check_connection", ignore_result=True)
def check_connection(workspace_id: int) -> None:
    workspace = Workspace.objects.filter(pk=workspace_id, status=Status.ACTIVE).first()
    if workspace is None:
        return
    try:
        connection_check(workspace=workspace)
    except ProviderError as error:
        # A rejected token has already marked the workspace; an outage is retried by
        # the next scheduled check.
        logger.info("connection check of workspace %s: %s", workspace_id, error.message)
