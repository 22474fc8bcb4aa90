"""Reads for workspaces, always scoped by account."""

from .models import Workspace

# What Connected Workspaces shows of each row. Not the tokens: they are decrypted on
# load, two Fernet decryptions a row for nothing (and a page has no use for a secret).
WORKSPACE_ROW_FIELDS = (
    "account_id",
    "provider",
    "name",
    "status",
    "updated_at",
    "connected_by__email",
)


def workspaces_for_account(*, account) -> list[Workspace]:
    """The account's workspaces as Connected Workspaces lists them: by name, with the
    e-mail of who connected each (one query)."""
    return list(
        Workspace.objects.for_account(account)
        .select_related("connected_by")
        .only(*WORKSPACE_ROW_FIELDS)
        .order_by("name", "pk")
    )


def workspace_for_account(*, account, pk: int) -> Workspace:
    """The account's workspace ``pk``; another account's workspace does not exist here."""
    return Workspace.objects.for_account(account).select_related("connected_by").get(pk=pk)
