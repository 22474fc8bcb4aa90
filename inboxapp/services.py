"""Writes for the inbox app: a proactive message queued on the relay's outbound path
(so it is sent, retried, failed and given its statuses exactly like an agent's reply),
and the Intercom conversation "Send & open conversation" opens."""

import logging

from django.db import IntegrityError, transaction

from channels.models import (
    Channel,
    Contact,
    Conversation,
    Direction,
    Message,
    MessageStatus,
    Origin,
    WhatsAppTemplate,
)
from channels.services import contact_upsert
from channels.template_services import (
    whatsapp_template_definition,
    whatsapp_template_message,
    whatsapp_template_used,
)
from integrations.base import ProviderError
from integrations.channel import Sender
from integrations.errors import provider_call
from integrations.intercom.client import LABEL, IntercomClient, describe_error
from integrations.intercom.webhooks import text_to_html
from integrations.registry import channel_adapter
from integrations.services import inbox_call, workspace_tokens
from integrations.whatsapp import templates as wa_templates
from octopods import logs
from relay.outbound import plain_html
from relay.wakeup import relay_wake
from workspaces.models import Workspace

from .canvas import ChannelOption, Recipient
from .models import InboxAppSettings, ProactiveSend
from .selectors import assigns_answer_to_sender, phone_external_id

logger = logging.getLogger(__name__)


class SendRefused(Exception):
    """What the teammate asked for cannot be sent; the message says why."""


def proactive_send(
    *,
    workspace: Workspace,
    channel: Channel,
    option: ChannelOption,
    contact: Contact | None,
    recipient: Recipient,
    text: str,
    key: str,
    admin_id: str,
    admin_name: str,
) -> tuple[ProactiveSend, bool]:
    """Queue ``text`` for the customer on ``channel``, once per ``key``: returns the
    send and whether this call made it (False: a double click found the first one).

    The contact is created for a number the channel has not met (SMS, WhatsApp). The
    relay is woken once the rows are committed."""
    existing = _by_key(workspace, key)
    if existing is not None:
        return existing, False
    if not option.free_text:
        raise SendRefused(
            "The customer's 24-hour WhatsApp window is closed: only an approved template "
            "can be sent."
        )
    return _queue(
        workspace=workspace,
        channel=channel,
        contact=contact,
        recipient=recipient,
        key=key,
        admin_id=admin_id,
        admin_name=admin_name,
        text=text,
        # As an agent's reply carries it: the relay adds the channel's signature with
        # this teammate's name and posts failure notes as them.
        data={"body_html": plain_html(text)},
    )


def template_send(
    *,
    workspace: Workspace,
    channel: Channel,
    contact: Contact | None,
    recipient: Recipient,
    template: WhatsAppTemplate,
    values: dict[str, str],
    key: str,
    admin_id: str,
    admin_name: str,
) -> tuple[ProactiveSend, bool]:
    """Queue an approved WhatsApp template with the teammate's ``values``, once per
    ``key`` (shared with ``proactive_send``): inside or outside the 24-hour window, as
    Meta allows templates at any time. The message keeps the template as filled in (a
    later sync does not change what it sends) and, as its text, exactly what the
    customer sees. TemplateValuesInvalid (words for the teammate) when a value is
    missing or unusable; nothing is queued then."""
    existing = _by_key(workspace, key)
    if existing is not None:
        return existing, False
    if not channel_adapter(channel.kind).approved_templates or template.channel_id != channel.pk:
        raise SendRefused("That template is not one of this channel's.")
    definition = whatsapp_template_definition(template)
    # Only the template's own variables are kept with the message.
    values = {
        variable.key: str(values.get(variable.key) or "")
        for variable in wa_templates.template_variables(definition)
    }
    try:
        message = whatsapp_template_message(template=template, values=values)
    except wa_templates.TemplateValuesInvalid:
        raise
    except ValueError as not_approved:
        raise SendRefused(
            f"The template “{template.name}” is no longer approved, so it cannot be sent."
        ) from not_approved
    send, created = _queue(
        workspace=workspace,
        channel=channel,
        contact=contact,
        recipient=recipient,
        key=key,
        admin_id=admin_id,
        admin_name=admin_name,
        text=wa_templates.render(definition, values).as_text(),
        # No body_html: the relay sends the template alone, with no signature.
        data={"body_html": "", "template": message.as_data()},
    )
    if created:
        whatsapp_template_used(template=template)
    return send, created


def _queue(
    *,
    workspace: Workspace,
    channel: Channel,
    contact: Contact | None,
    recipient: Recipient,
    key: str,
    admin_id: str,
    admin_name: str,
    text: str,
    data: dict,
) -> tuple[ProactiveSend, bool]:
    try:
        with transaction.atomic():
            if contact is None:
                contact = contact_upsert(
                    channel=channel,
                    sender=Sender(
                        external_id=phone_external_id(channel.kind, recipient.phone),
                        phone=recipient.phone,
                        name=recipient.name[:200],
                    ),
                )
            message = Message.objects.create(
                channel=channel,
                contact=contact,
                direction=Direction.OUTBOUND,
                origin=Origin.AGENT,
                status=MessageStatus.PENDING,
                type="template" if "template" in data else "text",
                text=text,
                data=logs.stamped(
                    {**data, "admin_id": admin_id, "admin_name": admin_name, "proactive": True}
                ),
            )
            send = ProactiveSend.objects.create(
                workspace=workspace,
                contact=contact,
                message=message,
                idempotency_key=key,
                admin_id=admin_id,
                admin_name=admin_name,
            )
            contact_id = contact.pk
            transaction.on_commit(lambda: relay_wake([contact_id]))
    except IntegrityError:
        # The same preview submitted twice at once: the unique key let one through.
        existing = _by_key(workspace, key)
        if existing is None:
            raise
        return existing, False
    logger.info("workspace %s: proactive message %s queued", workspace.pk, message.pk)
    return send, True


def _by_key(workspace: Workspace, key: str) -> ProactiveSend | None:
    return (
        ProactiveSend.objects.filter(workspace=workspace, idempotency_key=key)
        .select_related("message__channel", "contact")
        .first()
    )


def conversation_open(
    *, workspace: Workspace, send: ProactiveSend, recipient: Recipient, customer_text: str
) -> None:
    """Open an Intercom conversation with the message, as the teammate who sent it, so
    the customer's answer lands there (the relay appends to the contact's latest
    conversation). A failure is kept on the send and shown; the message goes out anyway.

    Intercom's admin-initiated message (POST /messages) opens the conversation without
    waiting for the contact to reply when ``create_conversation_without_contact_reply``
    is set (Intercom REST API 2.x, "Create a message")."""
    contact = send.contact
    intercom_id = recipient.intercom_id or contact.inbox_contact_id
    if not intercom_id:
        send.open_error = (
            "This customer has no Intercom contact yet, so no conversation was opened."
        )
        send.save(update_fields=["open_error"])
        return
    body = {
        "message_type": "inapp",
        "body": text_to_html(customer_text),
        "from": {"type": "admin", "id": send.admin_id},
        "to": {
            "type": recipient.role if recipient.role in ("user", "lead") else "user",
            "id": intercom_id,
        },
        "create_conversation_without_contact_reply": True,
    }
    try:
        with inbox_call(workspace):
            tokens = workspace_tokens(workspace=workspace)
            api = IntercomClient(tokens.access_token)
            answer = api.create_message(body)
        conversation_id = str(answer.get("conversation_id") or "")
        if not conversation_id:
            raise ProviderError("Intercom did not say which conversation it opened.")
    except ProviderError as error:
        send.open_error = (
            f"The message was queued, but no Intercom conversation was opened: {error.message}"[
                :500
            ]
        )
        send.save(update_fields=["open_error"])
        return
    with transaction.atomic():
        conversation, _ = Conversation.objects.update_or_create(
            workspace=workspace,
            inbox_conversation_id=conversation_id,
            defaults={"contact": contact, "open": True, "closed_at": None},
        )
        # Failure notes for the message go to the conversation it opened.
        Message.objects.filter(pk=send.message_id, conversation__isnull=True).update(
            conversation=conversation
        )
        # The relay posts the answer as this Intercom contact, into this conversation.
        Contact.objects.filter(pk=contact.pk, inbox_contact_id="").update(
            inbox_contact_id=intercom_id
        )
        send.inbox_conversation_id = conversation_id
        send.save(update_fields=["inbox_conversation_id"])
    _tag(api, conversation_id, name=send.message.channel.name, admin_id=send.admin_id)
    answer_assign(workspace=workspace, send=send, conversation_id=conversation_id)


def _tag(api: IntercomClient, conversation_id: str, *, name: str, admin_id: str) -> None:
    """Tag the conversation with the channel's name, as the relay tags the ones it
    opens. The conversation is open already: a tag that fails is only logged."""
    try:
        with provider_call(LABEL, describe_error):
            tag = api.tag(name)
            api.tag_conversation(conversation_id, tag_id=str(tag["id"]), admin_id=admin_id)
    except ProviderError as error:
        logger.warning("Intercom conversation %s not tagged: %s", conversation_id, error.message)


def answer_assign(*, workspace: Workspace, send: ProactiveSend, conversation_id: str) -> None:
    """When the workspace says so, assign the conversation the customer's answer will
    land in to the teammate who sent the message (Intercom's assignment part, made as
    that teammate). The outcome is kept on the send for the status screen."""
    if not conversation_id or not assigns_answer_to_sender(workspace=workspace):
        return
    try:
        with inbox_call(workspace):
            tokens = workspace_tokens(workspace=workspace)
            IntercomClient(tokens.access_token).assign(
                conversation_id, admin_id=send.admin_id, assignee_id=send.admin_id
            )
    except ProviderError as error:
        outcome = f"The conversation could not be assigned to you: {error.message}"
    else:
        outcome = "The conversation is assigned to you, so the answer comes to you."
    send.assign_outcome = outcome[:500]
    send.save(update_fields=["assign_outcome"])


def inbox_app_settings_set(*, workspace: Workspace, assign_answer_to_sender: bool) -> None:
    InboxAppSettings.objects.update_or_create(
        workspace=workspace, defaults={"assign_answer_to_sender": assign_answer_to_sender}
    )
