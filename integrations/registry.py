"""Which package implements each provider: a plain map, imported lazily.

Adding a provider is a new package plus one line here.
"""

from functools import cache

from django.utils.module_loading import import_string

from .base import InboxAdapter

INBOXES = {
    "intercom": "integrations.intercom.adapter.IntercomAdapter",
    "hubspot": "integrations.hubspot.adapter.HubSpotAdapter",
}


@cache
def inbox_adapter(provider: str) -> InboxAdapter:
    """The adapter for ``provider``; KeyError for a provider we do not know."""
    return import_string(INBOXES[provider])()
