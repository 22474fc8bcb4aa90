"""Reads for workspaces, always scoped by account."""

from datetime import datetime
from typing import NamedTuple

from octopods.prepared import Prepared

from .models import Provider, Status, Workspace


class WorkspaceRow(NamedTuple):
    """A row of Connected Workspaces: what it shows of a workspace, as plain values (a
    hundred model instances, and their users, cost more than the rest of the query; no
    token is read, so none is decrypted)."""

    pk: int
    name: str
    provider: str
    status: str
    updated_at: datetime
    added_by: str  # the e-mail of who connected it; "" when nobody (any more)

    def get_provider_display(self) -> str:
        return _PROVIDERS.get(self.provider, self.provider)

    def get_status_display(self) -> str:
        return _STATUSES.get(self.status, self.status)


_PROVIDERS = {value: str(label) for value, label in Provider.choices}
_STATUSES = {value: str(label) for value, label in Status.choices}


_rows = Prepared(
    lambda account: (
        Workspace.objects.filter(account_id=account)
        .order_by("name", "pk")
        .values_list("pk", "name", "provider", "status", "updated_at", "connected_by__email")
    ),
    int,
)


def workspace_rows_for_account(*, account) -> list[WorkspaceRow]:
    """The account's workspaces as Connected Workspaces lists them, by name (one
    query)."""
    values = _rows.values(account.pk)
    return [
        WorkspaceRow(pk, name, provider, status, updated_at, added_by or "")
        for pk, name, provider, status, updated_at, added_by in values
    ]


def workspace_for_account(*, account, pk: int) -> Workspace:
    """The account's workspace ``pk``; another account's workspace does not exist here."""
    return Workspace.objects.for_account(account).select_related("connected_by").get(pk=pk)
