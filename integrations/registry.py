"""Which package implements each provider: a plain map, imported lazily.

Adding a provider is a new package plus one line here.
"""

from functools import cache

from django.utils.module_loading import import_string

from .base import InboxAdapter
from .channel import ChannelAdapter

INBOXES = {
    "intercom": "integrations.intercom.adapter.IntercomAdapter",
    "hubspot": "integrations.hubspot.adapter.HubSpotAdapter",
}


@cache
def inbox_adapter(provider: str) -> InboxAdapter:
    """The adapter for ``provider``; KeyError for a provider we do not know."""
    return import_string(INBOXES[provider])()


# Channel kind (as stored on Channel.kind) → its adapter.
CHANNELS = {
    "whatsapp": "integrations.whatsapp.adapter.WhatsAppAdapter",
    "sms": "integrations.twilio.adapter.TwilioAdapter",
    "telegram": "integrations.telegram.adapter.TelegramAdapter",
    "messenger": "integrations.messenger.adapter.MessengerAdapter",
}


@cache
def channel_adapter(kind: str) -> ChannelAdapter:
    """The adapter for channel ``kind``; KeyError for a kind we do not know."""
    return import_string(CHANNELS[kind])()


def channel_kind_choices() -> list[tuple[str, str]]:
    """(kind, label) for every channel kind: Channel.kind's choices and the kind picker."""
    return [(kind, channel_adapter(kind).label) for kind in CHANNELS]
