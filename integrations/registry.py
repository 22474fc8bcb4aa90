"""Which package implements each provider: a plain map, imported lazily.

Adding a provider is a new package plus one line here. This module is plain data at
import time (no Django): the settings read ``CHANNELS`` to define each channel
provider's API setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import InboxAdapter
    from .channel import ChannelAdapter


@dataclass(frozen=True)
class ProviderAPI:
    """A channel provider's API, as the settings, the sandbox and the metrics see it.

    ``setting`` is the Django setting (and environment variable) holding its base URL,
    ``default`` the real service's, ``sandbox_path`` where the sandbox stands in for it
    (under ``{PUBLIC_BASE_URL}/sandbox/``); ``provider`` names it in the metrics, where
    a call under the base URL or to one of ``hosts`` (file downloads, CDNs) is its."""

    provider: str
    setting: str
    default: str
    sandbox_path: str
    hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChannelKind:
    """A channel kind: the dotted path of its adapter, and its provider's API.

    ``extra_apis`` are further hosts of the same provider the kind calls, each with a
    setting of its own (LINE downloads customers' files from a data API beside its
    main one); the settings, the sandbox and the metrics cover them like ``api``."""

    adapter: str
    api: ProviderAPI
    extra_apis: tuple[ProviderAPI, ...] = ()


INBOXES = {
    "intercom": "integrations.intercom.adapter.IntercomAdapter",
    "hubspot": "integrations.hubspot.adapter.HubSpotAdapter",
}


@cache
def inbox_adapter(provider: str) -> InboxAdapter:
    """The adapter for ``provider``; KeyError for a provider we do not know."""
    from django.utils.module_loading import import_string

    return import_string(INBOXES[provider])()


# Meta's Graph API, shared by the kinds Meta runs.
META_GRAPH = ProviderAPI(
    provider="meta",
    setting="META_GRAPH_API_URL",
    default="https://graph.facebook.com/v25.0",
    sandbox_path="graph/v25.0",
    hosts=("facebook.com", "fbsbx.com", "whatsapp.net"),
)

# Channel kind (as stored on Channel.kind) → its adapter and its provider's API: one
# entry per kind. The order is the kind picker's.
CHANNELS = {
    "whatsapp": ChannelKind("integrations.whatsapp.adapter.WhatsAppAdapter", META_GRAPH),
    "sms": ChannelKind(
        "integrations.twilio.adapter.TwilioAdapter",
        ProviderAPI(
            provider="twilio",
            setting="TWILIO_API_URL",
            default="https://api.twilio.com",
            sandbox_path="twilio",
            hosts=("twilio.com",),
        ),
    ),
    "telegram": ChannelKind(
        "integrations.telegram.adapter.TelegramAdapter",
        ProviderAPI(
            provider="telegram",
            setting="TELEGRAM_API_URL",
            default="https://api.telegram.org",
            sandbox_path="telegram",
            hosts=("telegram.org",),
        ),
    ),
    "messenger": ChannelKind("integrations.messenger.adapter.MessengerAdapter", META_GRAPH),
    "instagram": ChannelKind("integrations.instagram.adapter.InstagramAdapter", META_GRAPH),
    "viber": ChannelKind(
        "integrations.viber.adapter.ViberAdapter",
        ProviderAPI(
            provider="viber",
            setting="VIBER_API_URL",
            default="https://chatapi.viber.com/pa",
            sandbox_path="viber/pa",
            hosts=("viber.com",),
        ),
    ),
    "line": ChannelKind(
        "integrations.line.adapter.LineAdapter",
        ProviderAPI(
            provider="line",
            setting="LINE_API_URL",
            default="https://api.line.me",
            sandbox_path="line",
            hosts=("api.line.me",),
        ),
        extra_apis=(
            ProviderAPI(
                provider="line",
                setting="LINE_DATA_API_URL",
                default="https://api-data.line.me",
                sandbox_path="line/data",
                hosts=("api-data.line.me", "line-scdn.net"),
            ),
        ),
    ),
}


def channel_apis() -> list[ProviderAPI]:
    """Each channel provider's API (and each further host a kind names) once, in the
    order of the kinds that use it."""
    return list(
        dict.fromkeys(api for kind in CHANNELS.values() for api in (kind.api, *kind.extra_apis))
    )


@cache
def channel_adapter(kind: str) -> ChannelAdapter:
    """The adapter for channel ``kind``; KeyError for a kind we do not know."""
    from django.utils.module_loading import import_string

    return import_string(CHANNELS[kind].adapter)()


def channel_kind_choices() -> list[tuple[str, str]]:
    """(kind, label) for every channel kind: Channel.kind's choices and the kind picker."""
    return [(kind, channel_adapter(kind).label) for kind in CHANNELS]


def labels_phrase(labels: list[str], conjunction: str = "and") -> str:
    """``labels`` in one phrase: "WhatsApp, SMS and Telegram"."""
    if len(labels) < 2:
        return "".join(labels)
    return f"{', '.join(labels[:-1])} {conjunction} {labels[-1]}"


def channel_labels(conjunction: str = "and") -> str:
    """Every kind's label in one phrase: "WhatsApp, SMS, Telegram and Messenger"."""
    return labels_phrase([label for _, label in channel_kind_choices()], conjunction)
