"""Reads for the channel domain, always scoped by account."""

from dataclasses import fields
from datetime import datetime
from typing import NamedTuple

from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, F, Q, QuerySet, Subquery, When

from integrations.phone_identity import equivalent_ids, equivalents
from integrations.registry import channel_adapter
from octopods.prepared import Prepared

from .automations import SCHEDULE_PREFETCH
from .models import Channel, Contact, Direction, Message, MessageStatus, WhatsAppTemplate

MESSAGES_PER_PAGE = 50
MAX_PAGE_NUMBER = 10**12


class MessageLogRow(NamedTuple):
    """A row of a channel's message log: what it shows of a message, as plain values
    (fifty messages and their contacts as model instances cost more than the rest of
    the query)."""

    pk: int
    created_at: datetime
    direction: str
    contact: str  # as Contact.__str__ names it
    type: str
    text: str
    status: str
    error_code: str
    error_text: str

    def get_direction_display(self) -> str:
        return _DIRECTIONS.get(self.direction, self.direction)

    def get_status_display(self) -> str:
        return _STATUSES.get(self.status, self.status)


_DIRECTIONS = {value: str(label) for value, label in Direction.choices}
_STATUSES = {value: str(label) for value, label in MessageStatus.choices}
_LOG_VALUES = (
    "pk",
    "created_at",
    "direction",
    "contact__name",
    "contact__phone_e164",
    "contact__external_id",
    "type",
    "text",
    "status",
    "error_code",
    "error_text",
)


def _account_channels(account):
    return Channel.objects.for_account(account).select_related("workspace", "added_by")


# The channel page's read, compiled once (octopods/prepared.py).
_account_channel = Prepared(
    lambda account, pk: _account_channels(account).filter(pk=pk).order_by(), int, int
)


def channel_for_account(*, account, pk: int, with_settings: bool = False) -> Channel:
    """The account's channel ``pk``; another account's channel does not exist here.
    ``with_settings`` loads its schedule and templates too (one query per kind of row,
    however many there are)."""
    if with_settings:
        channels = _account_channels(account).prefetch_related(*SCHEDULE_PREFETCH, "templates")
        return channels.get(pk=pk)
    channel = _account_channel.first(account.pk, _db_int(pk))
    if channel is None:
        raise Channel.DoesNotExist("No such channel.")
    return channel


def _db_int(pk) -> int:
    """``pk`` as the ORM would look it up (a str from a URL, say), or -1 when no row can
    have it: the prepared query takes it as it is."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return -1
    return pk if -(2**63) <= pk < 2**63 else -1


def channels_for_workspace(*, workspace) -> list[Channel]:
    return list(workspace.channels.all())


def _newest_first(channel):
    return Message.objects.filter(channel=channel).order_by("-created_at", "-pk")


def _with_count(channel):
    """The log's rows with the channel's message count riding along (a subquery)."""
    messages = Message.objects.filter(channel=channel)
    count = Subquery(messages.values("channel").annotate(n=Count("pk")).values("n"))
    return _newest_first(channel).values_list(*_LOG_VALUES, count)


# The first page — what the channel page shows unless asked for another — compiled once.
_first_page = Prepared(lambda channel: _with_count(channel)[:MESSAGES_PER_PAGE], int)


def channel_message_page(*, channel: Channel, number) -> Page:
    """One page of the channel's message log (MessageLogRow), newest first, contacts
    joined in, as ``Paginator.get_page(number)`` gives it: in one query whatever the page
    holds (the channel's count rides along in a subquery); a number past the last page
    costs two more (the count, then the last page)."""
    newest_first = _newest_first(channel)
    wanted = _page_number(number)
    # Beyond this the OFFSET would not fit PostgreSQL's bigint; no log is that long, so
    # such a number is past the last page, which Paginator finds.
    if 1 <= wanted <= MAX_PAGE_NUMBER:
        if wanted == 1:
            values = _first_page.values(channel.pk)
        else:
            bottom = (wanted - 1) * MESSAGES_PER_PAGE
            values = list(_with_count(channel)[bottom : bottom + MESSAGES_PER_PAGE])
        if values or wanted == 1:
            paginator = Paginator(newest_first, MESSAGES_PER_PAGE)
            paginator.count = values[0][-1] if values else 0
            return Page([_log_row(*row[:-1]) for row in values], wanted, paginator)
    page = Paginator(newest_first.values_list(*_LOG_VALUES), MESSAGES_PER_PAGE).get_page(number)
    page.object_list = [_log_row(*row) for row in page.object_list]
    return page


def _page_number(number) -> int:
    """``number`` as Paginator reads it; 1 when it is not a number (as get_page does)."""
    try:
        if isinstance(number, float) and not number.is_integer():
            raise ValueError
        return int(number)
    except (TypeError, ValueError):
        return 1


def _log_row(
    pk, created_at, direction, name, phone, external_id, kind, text, status, code, error
) -> MessageLogRow:
    # Contact.__str__, from the joined columns.
    contact = name or phone or external_id
    return MessageLogRow(pk, created_at, direction, contact, kind, text, status, code, error)


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


def channel_whatsapp_templates(*, channel: Channel) -> list[WhatsAppTemplate]:
    """The channel's synced templates for its page, by name then language, in one
    query (their components are left out: the page does not show them)."""
    if not channel_adapter(channel.kind).approved_templates:
        return []
    return list(WhatsAppTemplate.objects.filter(channel=channel).defer("components"))


def whatsapp_templates_sendable(*, channel: Channel) -> list[WhatsAppTemplate]:
    """The templates an agent may send on the channel: approved ones only (paused,
    rejected, pending and disabled ones would only be refused), recently used first."""
    return list(
        WhatsAppTemplate.objects.filter(channel=channel, status="APPROVED").order_by(
            F("last_used_at").desc(nulls_last=True), "name", "language"
        )
    )


def same_customer(external_id: str, phone: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The provider ids and E.164 numbers under which a channel may already know the
    customer who writes as ``external_id`` from ``phone``: their equivalent national
    forms (integrations/phone_identity.py), ``external_id`` first."""
    return equivalent_ids(external_id, phone), equivalents(phone)


def contacts_of_customer(*, channel: Channel, ids, phones) -> QuerySet[Contact]:
    """The channel's contacts known by one of ``ids`` or ``phones``, the one keyed by
    the first id first, then the most recently updated."""
    match = Q(external_id__in=ids)
    if phones:
        match |= Q(phone_e164__in=phones)
    return (
        Contact.objects.filter(channel=channel)
        .filter(match)
        .annotate(keyed=Case(When(external_id=ids[0], then=0), default=1))
        .order_by("keyed", F("updated_at").desc())
    )
