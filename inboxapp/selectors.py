"""Reads for the inbox app. Everything is scoped to the workspace the (signed) request
names: a channel, contact or send id from a canvas's stored data is looked up inside it,
never globally."""

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from channels.models import Channel, Contact, Conversation, Direction, Message
from channels.services import phone_to_e164
from integrations.base import ProviderError
from integrations.intercom.client import IntercomClient
from integrations.registry import channel_adapter
from integrations.services import inbox_call, workspace_tokens
from workspaces.models import Provider, Status, Workspace

from .canvas import RESULTS_MAX, ChannelOption, Offered, Recipient, SendView, Window
from .models import InboxAppSettings, ProactiveSend

logger = logging.getLogger(__name__)

# WhatsApp's and Messenger's customer-service window (PROVIDERS.md §3: free-form
# messages only within 24 hours of the customer's last one).
WINDOW = timedelta(hours=24)
WINDOW_KINDS = {"whatsapp", "messenger"}
# Kinds that can write first to a phone number; the others only answer a chat the
# customer opened (a Telegram bot cannot message a user who never started it; a Page
# only someone who wrote to it).
PHONE_KINDS = {"whatsapp", "sms"}


def canvas_workspace(*, workspace_id: str) -> Workspace | None:
    """The connected workspace a Canvas Kit request is for: the request is signed by
    Intercom, and Intercom names its own workspace (our Workspace.external_id)."""
    return Workspace.objects.filter(provider=Provider.INTERCOM, external_id=workspace_id).first()


def workspace_usable(workspace: Workspace) -> bool:
    return workspace.status == Status.ACTIVE


def assigns_answer_to_sender(*, workspace: Workspace) -> bool:
    return InboxAppSettings.objects.filter(
        workspace=workspace, assign_answer_to_sender=True
    ).exists()


def open_conversation_id(*, workspace: Workspace, contact: Contact) -> str:
    """The Intercom conversation the contact's next message is appended to, when there
    is an open one (the relay's own rule is the latest conversation)."""
    latest = (
        Conversation.objects.filter(workspace=workspace, contact=contact)
        .order_by("-created_at", "-pk")
        .first()
    )
    return latest.inbox_conversation_id if latest is not None and latest.open else ""


def templates_offered(channel: Channel, contact: Contact | None) -> list[Offered]:
    """The approved templates the panel may offer for ``channel`` and ``contact`` when
    free text cannot go out (WhatsApp outside the 24-hour window). The seam the
    WhatsApp templates work fills; until then there are none, and the panel says so."""
    return []


def customer_window(*, contact: Contact | None) -> Window:
    """Open until 24 hours after the customer's last message on this contact's channel."""
    if contact is None:
        return Window(open=False, until=None)
    last = (
        Message.objects.filter(contact=contact, direction=Direction.INBOUND)
        .order_by("-created_at")
        .values_list("sent_at", "created_at")
        .first()
    )
    if last is None:
        return Window(open=False, until=None)
    until = (last[0] or last[1]) + WINDOW
    return Window(open=timezone.now() < until, until=until)


def _option(channel: Channel, contact: Contact | None) -> ChannelOption:
    return ChannelOption(
        channel_id=channel.pk,
        kind=channel.kind,
        kind_label=channel_adapter(channel.kind).label,
        name=channel.name,
        window=customer_window(contact=contact) if channel.kind in WINDOW_KINDS else None,
    )


def contact_on(*, channel: Channel, recipient: Recipient) -> Contact | None:
    """The customer's Contact on ``channel``, if the channel knows them."""
    match = Q()
    if recipient.contact_id is not None:
        match |= Q(pk=recipient.contact_id)
    if recipient.intercom_id:
        match |= Q(inbox_contact_id=recipient.intercom_id)
    if recipient.phone:
        match |= Q(phone_e164=recipient.phone) | Q(
            external_id=phone_external_id(channel.kind, recipient.phone)
        )
    prefix = f"{channel.kind}:"
    if recipient.external_id.startswith(prefix):
        match |= Q(external_id=recipient.external_id[len(prefix) :])
    if not match.children:
        return None
    return Contact.objects.filter(channel=channel).filter(match).order_by("-updated_at").first()


def phone_external_id(kind: str, phone: str) -> str:
    """How a channel names a customer by their number: WhatsApp's wa_id is the number
    without "+", Twilio's is the E.164 number itself."""
    return phone.removeprefix("+") if kind == "whatsapp" else phone


def channel_options(
    *, workspace: Workspace, recipient: Recipient
) -> list[tuple[ChannelOption, Contact | None]]:
    """The workspace's channels that can reach ``recipient``, with their Contact there."""
    options = []
    for channel in Channel.objects.filter(workspace=workspace).order_by("name", "pk"):
        contact = contact_on(channel=channel, recipient=recipient)
        if contact is None and not (channel.kind in PHONE_KINDS and recipient.phone):
            continue
        options.append((_option(channel, contact), contact))
    return options


def channel_option(
    *, workspace: Workspace, recipient: Recipient, channel_id
) -> tuple[Channel, ChannelOption, Contact | None] | None:
    """One reachable channel of this workspace, or None (another workspace's id, a
    removed channel, or one that cannot reach the customer)."""
    if not isinstance(channel_id, int) or isinstance(channel_id, bool):
        return None
    channel = Channel.objects.filter(workspace=workspace, pk=channel_id).first()
    if channel is None:
        return None
    contact = contact_on(channel=channel, recipient=recipient)
    if contact is None and not (channel.kind in PHONE_KINDS and recipient.phone):
        return None
    return channel, _option(channel, contact), contact


def conversation_window(
    *, workspace: Workspace, conversation_id: str
) -> tuple[ChannelOption, Window] | None:
    """For a conversation Octopods relays on WhatsApp or Messenger: its channel and the
    window (one indexed lookup; no provider call)."""
    if not conversation_id:
        return None
    conversation = (
        Conversation.objects.filter(workspace=workspace, inbox_conversation_id=conversation_id)
        .select_related("contact__channel")
        .first()
    )
    if conversation is None or conversation.contact.channel.kind not in WINDOW_KINDS:
        return None
    option = _option(conversation.contact.channel, conversation.contact)
    return option, option.window


def recipient_from_contact(contact: dict) -> Recipient | None:
    """The request's ``contact`` (the customer the teammate is looking at)."""
    if not isinstance(contact, dict) or not contact.get("id"):
        return None
    return Recipient.from_data(
        {
            "intercom_id": str(contact.get("id") or ""),
            "name": contact.get("name") or "",
            "role": contact.get("role") or "",
            "email": contact.get("email") or "",
            "phone": phone_to_e164(str(contact.get("phone") or "")[:40]),
            "external_id": contact.get("external_id") or "",
        }
    )


def recipients_search(*, workspace: Workspace, query: str) -> tuple[list[Recipient], str]:
    """Customers matching an e-mail, phone number or user id: our own contacts in this
    workspace, then Intercom's contact search. Returns them and, when Intercom could not
    be asked, why (our own matches are still shown)."""
    query = query.strip()
    phone = phone_to_e164(query) if any(ch.isdigit() for ch in query) and "@" not in query else ""
    found: list[Recipient] = []
    ours = Q(external_id=query) | Q(inbox_contact_id=query)
    if phone:
        ours |= Q(phone_e164=phone)
    for contact in (
        Contact.objects.filter(channel__workspace=workspace)
        .filter(ours)
        .select_related("channel")
        .order_by("-updated_at")[:RESULTS_MAX]
    ):
        found.append(
            Recipient(
                name=contact.name[:200],
                intercom_id=contact.inbox_contact_id,
                phone=contact.phone_e164,
                external_id=contact.inbox_external_id[:200],
                contact_id=contact.pk,
            )
        )
    error = ""
    if "@" in query:
        search = {"field": "email", "operator": "=", "value": query}
    elif phone:
        search = {"field": "phone", "operator": "=", "value": phone}
    else:
        search = {
            "operator": "OR",
            "value": [
                {"field": "external_id", "operator": "=", "value": query},
                {"field": "id", "operator": "=", "value": query},
            ],
        }
    try:
        with inbox_call(workspace):
            tokens = workspace_tokens(workspace=workspace)
            contacts = IntercomClient(tokens.access_token).search_contacts(
                search, per_page=RESULTS_MAX
            )
    except ProviderError as failure:
        logger.info("workspace %s: contact search failed: %s", workspace.pk, failure.message)
        error = f"Intercom could not be searched just now ({failure.message})."
        contacts = []
    known = {each.intercom_id for each in found if each.intercom_id}
    for contact in contacts:
        recipient = recipient_from_contact(contact)
        if recipient is not None and recipient.intercom_id not in known:
            found.append(recipient)
    return found[:RESULTS_MAX], error


def send_view(send: ProactiveSend) -> SendView:
    message = send.message
    channel = message.channel
    return SendView(
        send_id=send.pk,
        status=message.status,
        text=message.text,
        channel_label=f"{channel_adapter(channel.kind).label} · {channel.name}",
        admin_name=send.admin_name,
        at=send.created_at,
        error_text=message.error_text,
        conversation_opened=bool(send.inbox_conversation_id),
        open_error=send.open_error,
        assign_outcome=send.assign_outcome,
    )


def _sends(workspace: Workspace):
    return ProactiveSend.objects.filter(workspace=workspace).select_related("message__channel")


def workspace_send(*, workspace: Workspace, send_id) -> ProactiveSend | None:
    if not isinstance(send_id, int) or isinstance(send_id, bool):
        return None
    return _sends(workspace).filter(pk=send_id).first()


def recent_sends(*, workspace: Workspace, contact_id: int, limit: int = 6) -> list[SendView]:
    """The customer's latest proactive messages, newest first."""
    return [
        send_view(send)
        for send in _sends(workspace).filter(contact_id=contact_id).order_by("-created_at")[:limit]
    ]
