"""Reads for the channel domain, always scoped by account."""

from dataclasses import fields

from django.core.paginator import Page, Paginator

from integrations.registry import channel_adapter

from .automations import SCHEDULE_PREFETCH
from .models import Channel, Message

MESSAGES_PER_PAGE = 50
# What the message log shows of each message (not its payload, media data or relay
# bookkeeping), its contact by the fields of Contact.__str__.
MESSAGE_LOG_FIELDS = (
    "channel_id",
    "contact",
    "contact__name",
    "contact__phone_e164",
    "contact__external_id",
    "direction",
    "type",
    "text",
    "status",
    "error_code",
    "error_text",
    "created_at",
)


def channel_for_account(*, account, pk: int, with_settings: bool = False) -> Channel:
    """The account's channel ``pk``; another account's channel does not exist here.
    ``with_settings`` loads its schedule and templates too (one query per kind of row,
    however many there are)."""
    channels = Channel.objects.for_account(account).select_related("workspace", "added_by")
    if with_settings:
        channels = channels.prefetch_related(*SCHEDULE_PREFETCH, "templates")
    return channels.get(pk=pk)


def channels_for_workspace(*, workspace) -> list[Channel]:
    return list(workspace.channels.all())


def channel_message_page(*, channel: Channel, number) -> Page:
    """One page of the channel's message log, newest first, contacts joined in (one
    count and one page query whatever the page holds)."""
    messages = (
        Message.objects.filter(channel=channel)
        .select_related("contact")
        .only(*MESSAGE_LOG_FIELDS)
        .order_by("-created_at", "-pk")
    )
    return Paginator(messages, MESSAGES_PER_PAGE).get_page(number)


def channel_credentials_shown(*, kind: str, data: dict) -> list[tuple[str, str]]:
    """A channel's credentials as (field, value) to show: ids in full, secrets (the
    fields the kind's Credentials keep out of its repr) as their last four characters."""
    adapter = channel_adapter(kind)
    labels = {name: field.label for name, field in adapter.form.base_fields.items()}
    shown = []
    for field in fields(adapter.Credentials):
        value = str(data.get(field.name, ""))
        if not field.repr:
            value = f"••••{value[-4:]}" if len(value) > 8 else "••••"
        label = labels.get(field.name) or field.name.replace("_", " ").capitalize()
        shown.append((label, value))
    return shown
