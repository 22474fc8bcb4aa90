"""Periodic upkeep of channels: the WhatsApp templates each number's Business Account
holds at Meta (the relay's tasks are in relay/tasks.py)."""

import logging

from celery import shared_task

from integrations.base import ProviderError
from integrations.registry import CHANNELS, channel_adapter

from .models import Channel
from .template_services import whatsapp_templates_sync

logger = logging.getLogger(__name__)


@shared_task(name="channels.sync_all_templates", ignore_result=True)
def sync_all_templates() -> None:
    """One sync per channel whose provider keeps approved templates (every 3 hours)."""
    kinds = [kind for kind in CHANNELS if channel_adapter(kind).approved_templates]
    for channel_id in Channel.objects.filter(kind__in=kinds).values_list("pk", flat=True):
        sync_whatsapp_templates.delay(channel_id)


@shared_task(name="channels.sync_whatsapp_templates", ignore_result=True)
def sync_whatsapp_templates(channel_id: int) -> None:
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        return
    try:
        whatsapp_templates_sync(channel=channel)
    except ProviderError as error:
        # Recorded on the channel for its page; the next scheduled sync tries again.
        logger.info("template sync of channel %s: %s", channel_id, error.message)


@shared_task(name="channels.answer_button_taps", ignore_result=True)
def answer_button_taps(channel_id: int, query_ids: list[str]) -> None:
    """Stop the spinner on buttons a customer tapped (the taps are stored already).
    Not retried: Telegram accepts an answer only for a short while after the tap, and
    a late or failed one changes nothing but the spinner, which times out by itself."""
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        return
    adapter = channel_adapter(channel.kind)
    credentials = adapter.credentials(channel.credentials_data)
    for query_id in query_ids:
        try:
            adapter.answer_tap(credentials=credentials, query_id=query_id)
        except ProviderError as error:
            logger.warning(
                "channel %s: button tap %s not answered: %s", channel_id, query_id, error.message
            )
