"""Test round trip: a synthetic customer message through the real path, step by step.

The channel page's button runs it: the message is stored as a webhook would store it,
delivered into the inbox by the relay's own code (contact matched or created,
conversation opened), the route back for replies is checked, and then everything it
made is removed again — in the inbox and here.
"""

import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from integrations.base import ProviderError
from integrations.registry import channel_adapter, inbox_adapter
from integrations.services import inbox_call, workspace_tokens
from relay.inbound import inbox_delivery
from relay.inbox import default_admin_id
from workspaces.models import Status

from .models import Channel, Contact, Conversation, Direction, Message, MessageStatus


@dataclass(frozen=True)
class Step:
    name: str
    ok: bool
    detail: str


def channel_round_trip(*, channel: Channel) -> list[Step]:
    workspace = channel.workspace
    label = workspace.get_provider_display()
    steps: list[Step] = []
    if workspace.status != Status.ACTIVE:
        state = workspace.get_status_display().lower()
        return [Step(f"{label} connection", False, f"{workspace.name} is {state}: reconnect it.")]
    marker = secrets.token_hex(4)
    with transaction.atomic():
        contact = Contact.objects.create(
            channel=channel,
            external_id=f"octopods-test-{marker}",
            name="Octopods round-trip test",
        )
        message = Message.objects.create(
            channel=channel,
            contact=contact,
            direction=Direction.INBOUND,
            provider_message_id=f"octopods-test-{marker}",
            type="text",
            text=f"Octopods test ({marker}): checking the way from {channel.name} to {label}. "
            "It is removed again right away.",
            status=MessageStatus.RECEIVED,
            sent_at=timezone.now(),
        )
    steps.append(Step("Message stored", True, "Stored as a customer's message would be."))
    inbox = inbox_adapter(workspace.provider)
    try:
        tokens = workspace_tokens(workspace=workspace)
        with inbox_call(workspace):
            refs = inbox.deliver(
                tokens=tokens,
                delivery=inbox_delivery(contact, message, None, reconcile=False),
            )
    except ProviderError as error:
        steps.append(Step(f"Delivered to {label}", False, error.message))
        contact.delete()
        return steps
    steps.append(Step("Contact matched or created", True, f"{label} contact {refs.contact_id}."))
    steps.append(
        Step(
            "Conversation opened",
            True,
            f"{label} conversation {refs.conversation_id}, tagged “{channel.name}”.",
        )
    )
    conversation = Conversation.objects.create(
        workspace=workspace, contact=contact, inbox_conversation_id=refs.conversation_id
    )
    steps.append(_reply_route(channel, conversation))
    try:
        with inbox_call(workspace):
            done = inbox.test_cleanup(
                tokens=tokens, refs=refs, admin_id=default_admin_id(workspace)
            )
        steps.append(Step("Cleaned up", True, done))
    except ProviderError as error:
        steps.append(Step("Cleaned up", False, f"The test is still in {label}: {error.message}"))
    contact.delete()  # with its message and conversation
    return steps


def _reply_route(channel: Channel, conversation: Conversation) -> Step:
    """Would an agent's reply in that conversation reach this channel's customer?"""
    adapter = channel_adapter(channel.kind)
    try:
        adapter.credentials(channel.credentials_data)
    except ValueError as error:
        return Step(
            "Reply route ready", False, f"The channel's credentials are incomplete: {error}"
        )
    found = (
        Conversation.objects.filter(
            workspace=channel.workspace, inbox_conversation_id=conversation.inbox_conversation_id
        )
        .select_related("contact__channel")
        .first()
    )
    if found is None or found.contact.channel_id != channel.pk:
        return Step("Reply route ready", False, "Replies in that conversation would not be found.")
    if adapter.manual_setup and not channel.webhook_verified_at:
        return Step(
            "Reply route ready",
            False,
            f"Replies would be sent, but {adapter.label} has not verified the webhook yet: "
            "customers' messages will not arrive.",
        )
    return Step(
        "Reply route ready",
        True,
        f"Replies in that conversation go out on {adapter.label} ({channel.name}).",
    )
