"""Reads for the inbox app. Everything is scoped to the workspace the (signed) request
names: a channel, contact or send id from a canvas's stored data is looked up inside it,
never globally."""

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from channels.automations import template_variables_taken
from channels.models import (
    Channel,
    Contact,
    Conversation,
    Direction,
    Message,
    MessageTemplate,
    WhatsAppTemplate,
)
from channels.selectors import whatsapp_templates_sendable
from channels.services import phone_to_e164
from channels.template_services import whatsapp_template_definition
from integrations.base import ProviderError
from integrations.intercom.client import IntercomClient
from integrations.phone_identity import equivalents
from integrations.registry import channel_adapter
from integrations.services import inbox_call, workspace_tokens
from integrations.whatsapp import templates as wa_templates
from workspaces.models import Provider, Status, Workspace

from .canvas import (
    RESULTS_MAX,
    SAVED_SHOWN,
    TEMPLATES_SHOWN,
    ChannelOption,
    Field,
    Offered,
    Recipient,
    SavedChoice,
    SavedText,
    SendView,
    TemplateChoice,
    TemplateView,
    Window,
)
from .models import InboxAppSettings, ProactiveSend

logger = logging.getLogger(__name__)

# The customer-service window of the kinds that have one (the adapter's
# ``customer_service_window``; PROVIDERS.md §3: free-form messages only within 24 hours
# of the customer's last one).
WINDOW = timedelta(hours=24)


def _has_window(kind: str) -> bool:
    return channel_adapter(kind).customer_service_window


def _reaches_phone(kind: str) -> bool:
    """Whether the kind can write first to a phone number; the others only answer a
    chat the customer opened (a bot cannot message a user who never started it)."""
    return channel_adapter(kind).reaches_phone_numbers


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


def templates_offered(
    channel: Channel, contact: Contact | None, *, query: str = ""
) -> TemplateChoice:
    """The approved templates the panel offers on ``channel`` (WhatsApp): the most
    recently used first, at most TEMPLATES_SHOWN of them, those whose name holds
    ``query`` when one is given. Paused, rejected, pending and disabled templates are
    never offered: Meta would only refuse them."""
    if not channel_adapter(channel.kind).approved_templates:
        return TemplateChoice()
    query = query.strip()
    found = whatsapp_templates_sendable(channel=channel)
    if query:
        needle = query.casefold()
        found = [each for each in found if needle in each.name.casefold()]
    offered = [
        Offered(
            key=str(each.pk),
            label=f"{each.name} ({each.language})",
            preview=whatsapp_template_definition(each).body,
        )
        for each in found[:TEMPLATES_SHOWN]
    ]
    return TemplateChoice(offered=offered, total=len(found), query=query)


def saved_texts_offered(channel: Channel) -> SavedChoice:
    """The channel's saved texts the compose screen lists: alphabetical, at most
    SAVED_SHOWN, and how many there are in all."""
    saved = MessageTemplate.objects.filter(channel=channel).order_by("name", "language", "pk")
    return SavedChoice(
        offered=[saved_view(each) for each in saved[:SAVED_SHOWN]], total=saved.count()
    )


def saved_text_on(*, channel: Channel, saved_id) -> MessageTemplate | None:
    """One saved text of ``channel`` (itself resolved inside the workspace): an id of
    another channel's, another account's or a removed one finds nothing."""
    if not isinstance(saved_id, int) or isinstance(saved_id, bool):
        return None
    return MessageTemplate.objects.filter(channel=channel, pk=saved_id).first()


def saved_view(saved: MessageTemplate) -> SavedText:
    return SavedText(
        saved_id=saved.pk,
        name=saved.name,
        language=saved.language,
        body=saved.body,
        variables=template_variables_taken(saved.body),
    )


def template_on(*, channel: Channel, template_id) -> WhatsAppTemplate | None:
    """One approved template of ``channel`` (itself resolved inside the workspace)."""
    if not isinstance(template_id, int) or isinstance(template_id, bool):
        return None
    return WhatsAppTemplate.objects.filter(
        channel=channel, pk=template_id, status="APPROVED"
    ).first()


def template_view(template: WhatsAppTemplate) -> TemplateView:
    definition = whatsapp_template_definition(template)
    buttons = []
    for button in definition.buttons:
        target = button.url or button.phone_number
        buttons.append(f"{button.text}" + (f" → {target}" if target else ""))
    return TemplateView(
        template_id=template.pk,
        name=template.name,
        language=template.language,
        category=template.category,
        footer=definition.footer,
        buttons=tuple(buttons),
    )


# A named variable is filled from the contact when its name says what it holds.
_CONTACT_FIELDS = {
    "name": "name",
    "full_name": "name",
    "customer_name": "name",
    "first_name": "first_name",
    "firstname": "first_name",
    "last_name": "last_name",
    "lastname": "last_name",
    "email": "email",
    "e_mail": "email",
    "phone": "phone",
    "phone_number": "phone",
}


def contact_attributes(contact: dict | None, recipient: Recipient) -> dict[str, str]:
    """What the customer's Intercom contact tells about them, by lower-case name: the
    request's ``contact`` when it is the recipient, else what the panel knows of the
    recipient (a customer found by search)."""
    attributes: dict[str, str] = {}
    if isinstance(contact, dict) and str(contact.get("id") or "") == recipient.intercom_id:
        custom = contact.get("custom_attributes")
        for name, value in (custom if isinstance(custom, dict) else {}).items():
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                attributes[str(name).casefold()] = str(value)
        name = contact.get("name") if isinstance(contact.get("name"), str) else ""
        email = contact.get("email") if isinstance(contact.get("email"), str) else ""
        phone = contact.get("phone") if isinstance(contact.get("phone"), str) else ""
    else:
        name, email, phone = recipient.name, recipient.email, recipient.phone
    name = " ".join(name.split())
    known = {
        "name": name,
        "first_name": name.split(" ")[0] if name else "",
        "last_name": name.split(" ")[-1] if " " in name else "",
        "email": email.strip(),
        "phone": phone.strip(),
    }
    # Intercom's own fields win over a custom attribute of the same name.
    for variable, source in _CONTACT_FIELDS.items():
        if known[source]:
            attributes[variable] = known[source]
    return attributes


def template_fields(
    template: WhatsAppTemplate, *, attributes: dict[str, str], values: dict | None = None
) -> list[Field]:
    """One field per variable of ``template``: the value the teammate gave when there
    is one, else a guess from the contact for a named variable (positional ones are
    numbers, which say nothing of what they hold)."""
    fields = []
    for variable in wa_templates.template_variables(whatsapp_template_definition(template)):
        if values is not None:
            value = values.get(variable.key, "")
        elif variable.kind == "text" and not variable.name.isdigit():
            value = attributes.get(variable.name.casefold(), "")
        else:
            value = ""
        fields.append(
            Field(
                key=variable.key,
                label=_field_label(variable),
                value=value if isinstance(value, str) else "",
                required=variable.required,
            )
        )
    return fields


def _field_label(variable: wa_templates.TemplateVariable) -> str:
    if variable.component == "button":
        what = {
            "url_suffix": "Link ending",
            "coupon_code": "Code",
            "payload": "Payload",
        }[variable.kind]
        return f"{what} of button “{variable.name}”"
    if variable.kind in ("image", "video", "document"):
        return f"Header {variable.kind} (https:// link)"
    if variable.kind == "location":
        return f"Header location {variable.name}"
    return f"{variable.component.title()} {{{{{variable.name}}}}}"


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
        window=customer_window(contact=contact) if _has_window(channel.kind) else None,
    )


def contact_on(*, channel: Channel, recipient: Recipient) -> Contact | None:
    """The customer's Contact on ``channel``, if the channel knows them."""
    match = Q()
    if recipient.contact_id is not None:
        match |= Q(pk=recipient.contact_id)
    if recipient.intercom_id:
        match |= Q(inbox_contact_id=recipient.intercom_id)
    if recipient.phone:
        # Any form of the number (integrations/phone_identity.py): a Brazilian known in
        # the inbox as +5511987654321 may have written from WhatsApp's 551187654321.
        forms = equivalents(recipient.phone)
        match |= Q(phone_e164__in=forms) | Q(
            external_id__in=[phone_external_id(channel.kind, form) for form in forms]
        )
    prefix = f"{channel.kind}:"
    if recipient.external_id.startswith(prefix):
        match |= Q(external_id=recipient.external_id[len(prefix) :])
    if not match.children:
        return None
    return Contact.objects.filter(channel=channel).filter(match).order_by("-updated_at").first()


def phone_external_id(kind: str, phone: str) -> str:
    """How a channel of ``kind`` names a customer by their number (its adapter's
    ``phone_external_id``)."""
    return channel_adapter(kind).phone_external_id(phone)


def channel_options(
    *, workspace: Workspace, recipient: Recipient
) -> list[tuple[ChannelOption, Contact | None]]:
    """The workspace's channels that can reach ``recipient``, with their Contact there."""
    options = []
    for channel in Channel.objects.filter(workspace=workspace).order_by("name", "pk"):
        contact = contact_on(channel=channel, recipient=recipient)
        if contact is None and not (_reaches_phone(channel.kind) and recipient.phone):
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
    if contact is None and not (_reaches_phone(channel.kind) and recipient.phone):
        return None
    return channel, _option(channel, contact), contact


def conversation_window(
    *, workspace: Workspace, conversation_id: str
) -> tuple[ChannelOption, Window] | None:
    """For a conversation Octopods relays on a kind with a window: its channel and the
    window (one indexed lookup; no provider call)."""
    if not conversation_id:
        return None
    conversation = (
        Conversation.objects.filter(workspace=workspace, inbox_conversation_id=conversation_id)
        .select_related("contact__channel")
        .first()
    )
    if conversation is None or not _has_window(conversation.contact.channel.kind):
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


def workspace_send_by_key(*, workspace: Workspace, key: str) -> ProactiveSend | None:
    """The send a preview (its idempotency key) already made, if any."""
    return _sends(workspace).filter(idempotency_key=key).first()
