"""The sandbox's channel kinds: which package plays each one on the customer phone.

Each kind's phone behaviour (what it writes to, how its provider sends webhooks, which
receipts it has) is a ``KindPhone`` in its provider's package, beside that provider's
stand-in API views and url patterns. Adding a kind is its package and one line here;
the url patterns of every package named here are mounted by ``sandbox/urls.py``.
"""

from functools import cache

from django.db import models
from django.utils.module_loading import import_string

# The sandbox's kind (as stored on sandbox Conversation.kind) → (its label, its phone
# behaviour). The order is the phone's.
KINDS = {
    "telegram": ("Telegram", "sandbox.telegram.phone.TelegramPhone"),
    "whatsapp": ("WhatsApp", "sandbox.meta.whatsapp.WhatsAppPhone"),
    "messenger": ("Messenger", "sandbox.meta.messenger.MessengerPhone"),
    "instagram": ("Instagram", "sandbox.meta.instagram.InstagramPhone"),
    "twilio": ("Twilio SMS", "sandbox.twilio.phone.TwilioPhone"),
    "viber": ("Viber", "sandbox.viber.phone.ViberPhone"),
    "line": ("LINE", "sandbox.line.phone.LinePhone"),
}

# Kind.TELEGRAM == "telegram", Kind("telegram").label == "Telegram", ...
Kind = models.TextChoices(
    "Kind", [(kind.upper(), (kind, label)) for kind, (label, _) in KINDS.items()]
)


def kind_choices() -> list[tuple[str, str]]:
    """Conversation.kind's choices (a callable: a new kind needs no migration)."""
    return [(kind, label) for kind, (label, _) in KINDS.items()]


@cache
def phone(kind: str):
    """The ``KindPhone`` of ``kind``; KeyError for a kind the sandbox does not play."""
    return import_string(KINDS[kind][1])()


def phones() -> list:
    return [phone(kind) for kind in KINDS]


def provider_packages() -> list[str]:
    """The provider packages the kinds live in (sandbox.telegram, sandbox.meta, ...),
    each once: their ``urls.urlpatterns`` are mounted under /sandbox/."""
    return list(dict.fromkeys(path.rsplit(".", 2)[0] for _, path in KINDS.values()))
