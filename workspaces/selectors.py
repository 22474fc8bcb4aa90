"""Reads for workspaces, always scoped by account."""

from .models import Workspace


def workspaces_for_account(*, account) -> list[Workspace]:
    return list(
        Workspace.objects.for_account(account).select_related("connected_by").order_by("name", "pk")
    )


def workspace_for_account(*, account, pk: int) -> Workspace:
    """The account's workspace ``pk``; another account's workspace does not exist here."""
    return Workspace.objects.for_account(account).select_related("connected_by").get(pk=pk)
