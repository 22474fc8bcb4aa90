"""Writes for a channel's settings: welcome message, out-of-office schedule, signature,
message templates. Input is what channels/forms.py validated (automations.py rules)."""

from datetime import timedelta

from django.db import IntegrityError, transaction

from .automations import Block, HolidayEntry
from .models import Channel, Holiday, MessageTemplate, OpeningHours


class TemplateNameTaken(Exception):
    """The channel already has a template with this name and language."""


def channel_welcome_update(*, channel: Channel, enabled: bool, message: str) -> Channel:
    channel.welcome_enabled = enabled
    channel.welcome_message = message
    channel.save(update_fields=["welcome_enabled", "welcome_message", "updated_at"])
    return channel


def channel_conversations_update(*, channel: Channel, new_conversation_after: timedelta) -> Channel:
    channel.new_conversation_after = new_conversation_after
    channel.save(update_fields=["new_conversation_after", "updated_at"])
    return channel


def channel_away_update(
    *,
    channel: Channel,
    enabled: bool,
    time_zone: str,
    message: str,
    hours: list[Block],
    holidays: list[HolidayEntry],
) -> Channel:
    """Replace the out-of-office settings, opening hours and holidays as one change."""
    with transaction.atomic():
        # Two admins saving at once would otherwise interleave their deletes and
        # inserts (and collide on the holiday dates); the second waits for the first.
        Channel.objects.select_for_update().filter(pk=channel.pk).first()
        channel.away_enabled = enabled
        channel.time_zone = time_zone
        channel.away_message = message
        channel.save(update_fields=["away_enabled", "time_zone", "away_message", "updated_at"])
        OpeningHours.objects.filter(channel=channel).delete()
        OpeningHours.objects.bulk_create(
            OpeningHours(channel=channel, weekday=b.weekday, opens=b.opens, closes=b.closes)
            for b in hours
        )
        Holiday.objects.filter(channel=channel).delete()
        Holiday.objects.bulk_create(
            Holiday(channel=channel, date=entry.date, name=entry.name) for entry in holidays
        )
    return channel


def channel_signature_update(*, channel: Channel, signature: str) -> Channel:
    channel.signature = signature
    channel.save(update_fields=["signature", "updated_at"])
    return channel


def _template_save(template: MessageTemplate) -> MessageTemplate:
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        # The form checks first; this is the race of two admins adding the same one.
        raise TemplateNameTaken(
            f"This channel already has a template named “{template.name}” in {template.language}."
        ) from None
    return template


def template_create(*, channel: Channel, name: str, language: str, body: str) -> MessageTemplate:
    return _template_save(MessageTemplate(channel=channel, name=name, language=language, body=body))


def template_update(
    *, template: MessageTemplate, name: str, language: str, body: str
) -> MessageTemplate:
    template.name, template.language, template.body = name, language, body
    return _template_save(template)


def template_delete(*, template: MessageTemplate) -> None:
    template.delete()
