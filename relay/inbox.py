"""This workspace's inbox, as the relay speaks to it: one object per workspace that
holds the provider's adapter and, around every call, the workspace's tokens (refreshed
when due) and the circuit that marks the workspace Needs reconnect when the inbox
refuses them (integrations/services.py). The relay's modules ask it to deliver a
message, post a note or report a reply's outcome, and never see tokens or adapters."""

from collections.abc import Callable

from integrations.base import InboxDelivery, InboxRefs
from integrations.registry import inbox_adapter
from integrations.services import inbox_call, workspace_tokens
from workspaces.models import InboxAdmin, Workspace


def admins_first_to_last(workspace):
    """The workspace's admins, the one the relay acts as first (``workspace`` may be an
    OuterRef: the relay reads the first one with its contact)."""
    return InboxAdmin.objects.filter(workspace=workspace).order_by("pk")


def default_admin_id(workspace: Workspace) -> str:
    """The teammate the relay acts as where the inbox needs one (the first admin)."""
    admin = admins_first_to_last(workspace).first()
    return admin.external_id if admin else ""


class WorkspaceInbox:
    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self.adapter = inbox_adapter(workspace.provider)

    def deliver(self, delivery: InboxDelivery, *, calling: Callable[[], None]) -> InboxRefs:
        """Post one customer message; ``calling()`` is called once the tokens are in
        hand, just before the provider is (what failed before it was not sent)."""
        with inbox_call(self.workspace):
            tokens = workspace_tokens(workspace=self.workspace)
            calling()
            return self.adapter.deliver(tokens=tokens, delivery=delivery)

    def post_note(self, **note) -> None:
        with inbox_call(self.workspace):
            self.adapter.post_note(tokens=workspace_tokens(workspace=self.workspace), **note)

    def reply_outcome(self, **outcome) -> None:
        with inbox_call(self.workspace):
            self.adapter.reply_outcome(tokens=workspace_tokens(workspace=self.workspace), **outcome)
