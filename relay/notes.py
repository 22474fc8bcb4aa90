"""Notes in the inbox conversation: what became of a reply, what an automation told
the customer."""

import logging

from channels.models import Contact, Message, Origin
from integrations.base import ProviderError
from integrations.registry import channel_adapter
from workspaces.models import Status

from .inbox import WorkspaceInbox, default_admin_id

logger = logging.getLogger(__name__)


def note(contact: Contact, message: Message, body: str) -> None:
    conversation = message.conversation
    workspace = contact.channel.workspace
    if conversation is None or workspace.status != Status.ACTIVE:
        return
    admin_id = message.data.get("admin_id") or default_admin_id(workspace)
    try:
        WorkspaceInbox(workspace).post_note(
            conversation_id=conversation.inbox_conversation_id,
            admin_id=admin_id,
            body=body,
            customer_external_id=contact.inbox_external_id,
            channel_account_id=contact.channel.inbox_channel_id,
        )
    except ProviderError as error:
        logger.warning("note for message %s not posted: %s", message.pk, error.message)


def note_failure(contact: Contact, message: Message, error: ProviderError) -> None:
    label = channel_adapter(contact.channel.kind).label
    if message.origin == Origin.AUTOMATION:
        what = "The automatic reply"
    elif message.data.get("proactive"):  # sent from the Octopods inbox app
        what = "This proactive message"
    else:
        what = "This reply"
    explanation = f"⚠️ {what} was not delivered on {label} ({contact.channel.name}). {error.message}"
    if message.origin == Origin.AGENT:
        reply_outcome(contact, message, error=explanation)
    else:
        note(contact, message, explanation)


def reply_outcome(contact: Contact, message: Message, *, error: str = "") -> None:
    """Tell the inbox what became of an agent's reply (a failure: in plain words)."""
    conversation = message.conversation
    workspace = contact.channel.workspace
    if conversation is None or workspace.status != Status.ACTIVE:
        return
    try:
        WorkspaceInbox(workspace).reply_outcome(
            conversation_id=conversation.inbox_conversation_id,
            part_id=message.inbox_part_id.split(":", 1)[0],
            admin_id=message.data.get("admin_id") or default_admin_id(workspace),
            error=error,
        )
    except ProviderError as failure:
        logger.warning("outcome of message %s not reported: %s", message.pk, failure.message)


def note_automation(contact: Contact, message: Message) -> None:
    what = {"welcome": "Welcome message", "away": "Out-of-office reply"}.get(
        message.data.get("automation", ""), "Automatic reply"
    )
    note(contact, message, f"{what} sent to the customer: {message.text}")
