"""What the customer phone does: a customer's messages and the receipts for the replies,
built as each provider's real webhook payload (PROVIDERS.md §3.4, §4.1, §4.4, §5.2,
§6.1) and sent, signed, to whatever URL the provider has registered for the endpoint.

What differs by kind is a ``KindPhone`` in the kind's provider package (sandbox/kinds.py
names them); this module is the phone's own part, the same for every kind.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from . import kinds
from .delivery import Outcome
from .models import AppSubscription, Conversation, Message, Webhook

LATER = timedelta(hours=25)


@dataclass(frozen=True)
class Endpoint:
    """What the customer writes to: a bot, a WhatsApp number, a Page, a Twilio number."""

    kind: str
    id: str
    name: str
    address: str

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def label(self) -> str:
        return f"{kinds.phone(self.kind).label}: {self.name} ({self.address})"


@dataclass(frozen=True)
class Target:
    webhook: Webhook
    # The Page's subscribed_fields (Messenger sends only what the Page subscribed to).
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Content:
    """What the customer sends: text, the sample photo (with a caption), or a place."""

    type: str  # text, image, location
    text: str = ""
    latitude: float = 0.0
    longitude: float = 0.0
    name: str = ""
    address: str = ""

    @property
    def location(self) -> dict:
        place = {"latitude": self.latitude, "longitude": self.longitude}
        return {**place, **{k: v for k, v in (("name", self.name), ("address", self.address)) if v}}


class KindPhone:
    """One kind on the customer phone. A kind's package subclasses it and sets ``kind``;
    the phone's pages and this module call nothing else of the package."""

    kind: str
    #: (name, provider id) of the customer the phone offers by default.
    customer_default: tuple[str, str]
    #: What the customer id is, in words ("Telegram user id (digits)").
    customer_id_help: str
    #: The provider's customer-service window: the phone shows it and "25 hours later".
    window = False
    #: What still gets through once the window closed, and what "25 hours later" says
    #: of the kind ("only templates get through", "WhatsApp accepts only templates").
    window_closed = ""
    after_window = ""
    #: The receipts the provider sends for replies, and what the phone says when the
    #: kind has none (or not this one).
    receipts: tuple[str, ...] = ()
    no_receipts = ""
    #: Whether a photo takes a caption, and whether a customer can send a place; else
    #: what the phone says instead.
    captions = True
    no_captions = ""
    locations = True
    no_locations = ""
    #: The customer can edit a text and tap a button (``edit`` and ``tap``).
    edits_and_taps = False
    #: The provider's section on the sandbox's index page (a template under
    #: sandbox/templates/sandbox/<provider>/ and its context), or "".
    index_template = ""

    @property
    def label(self) -> str:
        return kinds.Kind(self.kind).label

    def endpoints(self) -> list[Endpoint]:
        raise NotImplementedError

    def customer_id(self, value: str) -> str:
        """The provider's id for the customer typed on the phone (stripped, the default
        when empty); ValueError says why not."""
        if not re.fullmatch(r"[1-9][0-9]{4,19}", value):
            raise ValueError(f"This customer needs a {self.customer_id_help.lower()}.")
        return value

    def resolve(self, endpoint_id: str) -> tuple[Target | None, str]:
        """Where the provider sends this endpoint's webhooks, or what to do first."""
        raise NotImplementedError

    def refusal(self, target: Target, event: str) -> str:
        """Why the provider would not send ``event`` to the webhook; empty if it would."""
        return ""

    def new_ids(self, conversation: Conversation, content: Content) -> tuple[str, str]:
        """(provider message id, media reference) for a customer's message."""
        raise NotImplementedError

    def send(self, conversation, message: Message, content: Content, target: Target) -> Outcome:
        """Post the provider's webhook for the customer's ``message``."""
        raise NotImplementedError

    def receipt_event(self, state: str) -> str:
        """The webhook field a receipt of ``state`` is sent under, checked with
        ``refusal``; empty when the provider sends it whatever was subscribed."""
        return ""

    def post_receipts(self, conversation, waiting: list[Message], state: str, target) -> Outcome:
        raise NotImplementedError

    def send_receipts(self, conversation: Conversation, waiting: list[Message], state: str):
        """Tell Octopods ``waiting`` replies reached ``state``, and mark them."""
        target, problem = self.resolve(conversation.endpoint)
        if target is None:
            return Outcome(False, problem)
        if (event := self.receipt_event(state)) and (refusal := self.refusal(target, event)):
            return Outcome(False, refusal)
        outcome = self.post_receipts(conversation, waiting, state, target)
        remember(target.webhook, outcome)
        if outcome.ok:
            Message.objects.filter(pk__in=[m.pk for m in waiting]).update(status=state)
        return outcome

    def edit(self, conversation: Conversation, message: Message, text: str) -> Outcome:
        return Outcome(False, _only_wired())

    def tap(self, conversation: Conversation, label: str) -> Outcome:
        return Outcome(False, _only_wired())

    def index_context(self) -> dict:
        return {}


def _only_wired() -> str:
    wired = " and ".join(p.label for p in kinds.phones() if p.edits_and_taps)
    return f"Only {wired} is wired for this in the sandbox."


def endpoints() -> list[Endpoint]:
    return [each for phone in kinds.phones() for each in phone.endpoints()]


def endpoint(value: str) -> Endpoint | None:
    return next((e for e in endpoints() if e.value == value), None)


# --- customers ------------------------------------------------------------------------


class _PerKind(Mapping):
    """Kind → one attribute of its ``KindPhone``, read when asked (the phones import this
    module)."""

    def __init__(self, attribute: str):
        self.attribute = attribute

    def __getitem__(self, kind: str):
        return getattr(kinds.phone(kind), self.attribute)

    def __iter__(self):
        return iter(kinds.KINDS)

    def __len__(self) -> int:
        return len(kinds.KINDS)


# Every default customer is a different person with a number of their own: Pat shared
# Kerry's number once, and since Intercom finds a customer by phone, Pat's texts landed
# under Kerry's name (one person on two channels is README "One number on two
# channels"; type the same number on both to see it).
CUSTOMER_DEFAULTS = _PerKind("customer_default")
CUSTOMER_ID_HELP = _PerKind("customer_id_help")


def customer_id(kind: str, raw: str) -> str:
    """The provider's id for the customer typed on the phone; ValueError says why not."""
    phone = kinds.phone(kind)
    return phone.customer_id(raw.strip() or phone.customer_default[1])


# --- where the provider would send it -------------------------------------------------


def webhook(scope: str, owner: str) -> Webhook | None:
    return Webhook.objects.filter(scope=scope, owner=owner).first()


def subscription(owner_kind: str, owner_id: str) -> AppSubscription | None:
    return AppSubscription.objects.filter(owner_kind=owner_kind, owner_id=owner_id).first()


def resolve(kind: str, endpoint_id: str) -> tuple[Target | None, str]:
    """Where the provider sends this endpoint's webhooks, or what to do first."""
    return kinds.phone(kind).resolve(endpoint_id)


def remember(webhook: Webhook, outcome: Outcome) -> None:
    if outcome.ok:
        Webhook.objects.filter(pk=webhook.pk).update(last_error="", last_error_at=None)
    else:
        Webhook.objects.filter(pk=webhook.pk).update(
            last_error=outcome.text[:500], last_error_at=timezone.now()
        )


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# --- the customer's messages ----------------------------------------------------------


def customer_sends(conversation: Conversation, content: Content) -> Outcome:
    phone = kinds.phone(conversation.kind)
    if content.type == "location" and not phone.locations:
        return Outcome(False, f"{phone.no_locations}; send the address as text.")
    target, problem = phone.resolve(conversation.endpoint)
    if target is None:
        return Outcome(False, problem)
    if refusal := phone.refusal(target, "messages"):
        return Outcome(False, refusal)
    message_id, media_ref = phone.new_ids(conversation, content)
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.IN,
            provider_message_id=message_id,
            content_type=content.type,
            text=content.text,
            detail={"location": content.location} if content.type == "location" else {},
            media_ref=media_ref,
            status="received",
            created_at=now,
        )
        # The customer wrote, whatever became of the webhook: the window opens at the
        # provider either way.
        conversation.last_customer_message_at = now
        conversation.save(update_fields=["last_customer_message_at"])
    outcome = phone.send(conversation, message, content, target)
    message.outcome = outcome.text
    message.save(update_fields=["outcome"])
    remember(target.webhook, outcome)
    return outcome


def customer_edits(conversation: Conversation, message: Message, text: str) -> Outcome:
    """The customer changes a text they sent."""
    if message.direction != Message.Direction.IN or message.content_type != "text":
        return Outcome(False, "Only the customer's own texts can be edited.")
    return kinds.phone(conversation.kind).edit(conversation, message, text)


def customer_taps(conversation: Conversation, label: str) -> Outcome:
    """The customer taps a button labelled ``label`` under the latest reply."""
    return kinds.phone(conversation.kind).tap(conversation, label)


# --- receipts for Octopods' replies ---------------------------------------------------


def _waiting(conversation: Conversation, state: str) -> list[Message]:
    done = {"delivered": ("delivered", "read"), "read": ("read",)}[state]
    return list(
        conversation.messages.filter(direction=Message.Direction.OUT).exclude(status__in=done)
    )


def post_receipts(conversation: Conversation, state: str) -> Outcome:
    """Tell Octopods its replies were delivered (or read), as the provider would."""
    phone = kinds.phone(conversation.kind)
    if state not in phone.receipts:
        return Outcome(False, phone.no_receipts)
    waiting = _waiting(conversation, state)
    if not waiting:
        return Outcome(False, f"No replies are waiting to be marked {state}.")
    return phone.send_receipts(conversation, waiting, state)


def pretend_later(conversation: Conversation) -> None:
    """Move the customer's last message 25 hours back: the 24-hour window closes."""
    if conversation.last_customer_message_at is not None:
        conversation.last_customer_message_at -= LATER
        conversation.save(update_fields=["last_customer_message_at"])
