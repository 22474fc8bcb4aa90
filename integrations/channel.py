"""The channel side (WhatsApp, SMS, Telegram, Messenger): the adapter contract and the
normalized events every provider's webhook is parsed into.

Adapters take and return plain data; they never import ``channels`` (the domain) nor
Django's request. A webhook arrives as a ``WebhookRequest``; ``verify`` raises
``WebhookRejected`` for a bad signature; ``parse`` returns events or raises
``MalformedPayload``. Nothing is dropped silently: a message type we do not model
becomes an ``UNSUPPORTED`` message naming the provider's type.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class WebhookRejected(Exception):
    """Missing or wrong signature / secret: answer 403 and store nothing."""


class MalformedPayload(Exception):
    """The body is not what this provider sends: answer 400 and store nothing."""


@dataclass(frozen=True)
class WebhookRequest:
    """A provider's HTTP request to our webhook, as plain data.

    ``url`` is the public URL the provider called (from PUBLIC_BASE_URL, so it holds
    behind a proxy); ``headers`` keys are case-insensitive HTTP names as Django gives
    them (``request.headers``); ``form`` holds every value of repeated fields.
    """

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    query: dict[str, list[str]] = field(default_factory=dict)
    form: dict[str, list[str]] = field(default_factory=dict)

    def header(self, name: str) -> str:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), "")


class ContentType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    VOICE = "voice"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    REACTION = "reaction"
    INTERACTIVE = "interactive"  # a reply to our buttons, lists or template buttons
    UNSUPPORTED = "unsupported"


MEDIA_TYPES = {
    ContentType.IMAGE,
    ContentType.VIDEO,
    ContentType.AUDIO,
    ContentType.VOICE,
    ContentType.DOCUMENT,
    ContentType.STICKER,
}


@dataclass(frozen=True)
class Media:
    """A provider's reference to a file: an id to resolve (WhatsApp, Telegram) or a URL
    on the provider's own host (Twilio, Messenger). Fetched later by a worker."""

    ref: str
    mime_type: str = ""
    filename: str = ""
    size: int | None = None
    sha256: str = ""


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    name: str = ""
    address: str = ""
    url: str = ""


@dataclass(frozen=True)
class ContactCard:
    name: str
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sender:
    """The customer. ``external_id`` is the provider's stable id for them (WhatsApp
    wa_id, Messenger PSID, Telegram user id, the phone number for SMS); ``phone`` is
    their number as the provider gave it, when it has one; ``address`` is the id a reply
    is sent to when it is not ``external_id`` (WhatsApp's wa_id where Meta's
    business-scoped ``user_id`` keys the customer)."""

    external_id: str
    phone: str = ""
    address: str = ""
    name: str = ""
    username: str = ""


@dataclass(frozen=True)
class InboundMessage:
    provider_message_id: str
    sender: Sender
    sent_at: datetime
    type: ContentType
    text: str = ""  # the body, a caption, or the title of a tapped button
    media: Media | None = None
    location: Location | None = None
    contacts: tuple[ContactCard, ...] = ()
    reaction_emoji: str = ""  # empty on a reaction event means the reaction was removed
    reacted_to: str = ""  # provider message id the reaction is on
    reply_to: str = ""  # provider message id being quoted
    payload: str = ""  # the id of a tapped button or list row
    provider_type: str = ""  # the provider's own name for the type (kept for UNSUPPORTED)
    # The provider's own words on why it could not give us the message (UNSUPPORTED).
    provider_note: str = ""
    edits: str = ""  # provider message id of the customer's earlier message this replaces


class DeliveryState(StrEnum):
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


@dataclass(frozen=True)
class DeliveryStatus:
    """What the provider says became of a message we sent."""

    provider_message_id: str
    state: DeliveryState
    at: datetime
    error_code: str = ""
    error_text: str = ""


@dataclass(frozen=True)
class TemplateStatusUpdate:
    """The provider changed the review status of one of the channel's approved
    templates (Meta's ``message_template_status_update``): ``status`` is the new one
    (APPROVED, REJECTED, PAUSED, DISABLED, …), ``reason`` Meta's word for why."""

    template_id: str
    name: str
    language: str
    status: str
    reason: str = ""


@dataclass(frozen=True)
class Watermark:
    """Everything we sent the customer up to ``watermark`` has reached ``state``
    (Messenger's ``read`` event, and a ``delivery`` event without ``mids``, name no
    message, only this instant)."""

    customer_external_id: str
    watermark: datetime
    state: DeliveryState = DeliveryState.READ


@dataclass(frozen=True)
class ButtonTapToAnswer:
    """The customer tapped a button that spins until we answer it (Telegram's
    ``callback_query``): ``query_id`` is what ``ChannelAdapter.answer_tap`` answers.
    The tap itself is an ``InboundMessage`` beside it."""

    query_id: str


InboundEvent = (
    InboundMessage | DeliveryStatus | TemplateStatusUpdate | Watermark | ButtonTapToAnswer
)


@dataclass(frozen=True)
class OutboundMedia:
    """A file to send: a URL the provider can fetch (ours, signed and expiring)."""

    url: str
    mime_type: str = ""
    filename: str = ""


@dataclass(frozen=True)
class TemplateMessage:
    """A template the provider approved (WhatsApp): its name and language there, its
    ``parameter_format`` and ``components`` as the provider defined them (synced), and
    the values the agent gave, keyed as ``integrations.whatsapp.templates`` names a
    template's variables (``body.1``, ``body.first_name``, ``header.media``,
    ``button.0``)."""

    name: str
    language: str
    parameter_format: str = "POSITIONAL"
    components: tuple[dict, ...] = ()
    values: tuple[tuple[str, str], ...] = ()

    def as_data(self) -> dict:
        """As JSON, to keep with a queued message (a snapshot: a later sync changing
        the template does not change what this message sends)."""
        return {
            "name": self.name,
            "language": self.language,
            "parameter_format": self.parameter_format,
            "components": list(self.components),
            "values": dict(self.values),
        }

    @classmethod
    def from_data(cls, data: dict) -> "TemplateMessage":
        return cls(
            name=data["name"],
            language=data["language"],
            parameter_format=data["parameter_format"],
            components=tuple(data["components"]),
            values=tuple(sorted(data["values"].items())),
        )


@dataclass(frozen=True)
class OutboundMessage:
    """One message to one customer: text, or one file (with ``text`` as its caption),
    or an approved template. ``to`` is the contact's external id on the channel (wa_id,
    chat id, PSID, E.164 number). ``text`` is already in the channel's own formatting
    (``ChannelAdapter.format_html``). ``status_callback`` is where the provider should
    post delivery statuses, for providers that take one per message (Twilio).
    ``idempotency_key`` is the same for every attempt at one queued message and differs
    between messages ("" when the caller has none): a provider that takes a retry key
    (LINE's ``X-Line-Retry-Key``) is given one derived from it, so a retry after a
    timeout cannot deliver the message twice."""

    to: str
    text: str = ""
    media: OutboundMedia | None = None
    template: TemplateMessage | None = None
    status_callback: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True)
class FetchedMedia:
    content: bytes
    mime_type: str
    filename: str = ""


@dataclass(frozen=True)
class ChannelIdentity:
    """What a credentials check learned: the provider identity the channel speaks as
    (bound to one channel at a time), a name to suggest for the channel, and the full
    credentials to store (the form's fields plus what the provider told us, such as a
    bot's id and username)."""

    identity: str
    name: str
    credentials: dict


class ChannelAdapter:
    """One channel kind. Each provider package's ``adapter.py`` names its typed
    ``Credentials``, its ``webhooks`` module (``verify``, ``parse``, ``ACK`` and, for
    Meta's subscribe handshake, ``handshake``), its set-up ``form`` and its ``client``.

    Webhooks (no HTTP call in any of these):

    - ``credentials(data)`` parses the stored JSON into the kind's typed credentials
      (ValueError when a field is missing);
    - ``verify`` raises WebhookRejected; ``parse`` returns events or raises
      MalformedPayload;
    - ``handshake`` answers a provider's GET challenge (NotImplementedError where the
      provider has none);
    - ``ack`` is the body the provider expects on success.

    Adding a channel (these call the provider and raise ``ProviderError`` with a
    readable message, and ``field`` set when one credential is at fault):

    - ``form`` is the Django form an admin fills in; its ``cleaned_data`` holds the
      credential fields the admin typed;
    - ``generated_secrets()`` returns the secrets we choose ourselves (Meta's verify
      token, Telegram's secret_token), merged into the form's data before ``identify``;
    - ``identify(data=…)`` reads the provider identity with those credentials, changing
      nothing at the provider (so a conflict can be refused before we touch anything);
    - ``register_webhook(credentials=…, webhook_url=…)`` points the provider at our
      webhook where its API allows (Telegram ``setWebhook``, Twilio's number URL, Meta's
      ``subscribed_apps``); ``manual_setup`` says the admin must still paste our
      callback URL and verify token into the provider's dashboard (Meta);
    - ``unregister_webhook(credentials=…)`` undoes it when a channel is removed (best
      effort: the caller goes on, and tells the admin ``unregister_advice``: what may
      still point at Octopods and what to do about it at the provider).
    """

    kind: str
    label: str
    Credentials: type
    webhooks: object
    #: What the provider identity is, in a sentence: "This <identity_label> is
    #: already connected…" ("Telegram bot", "WhatsApp number", "Facebook Page").
    identity_label: str = "account"
    #: One line on the kind picker: what a channel of this kind is.
    description: str = ""
    #: The admin must paste our callback URL and verify token at the provider, where
    #: ``setup_instructions`` says (shown above the two values on the channel page).
    manual_setup: bool = False
    setup_instructions: str = ""
    #: The provider reports delivery (sent → delivered → read) by webhook. Where it does
    #: not (Telegram), a message the API accepted is in the customer's chat: delivered.
    delivery_receipts: bool = True
    #: Business-initiated messages go out as templates the provider approved, synced
    #: from the provider with ``fetch_templates`` (WhatsApp).
    approved_templates: bool = False
    #: Free-form messages go out only within 24 hours of the customer's last one (the
    #: provider's customer-service window; WhatsApp's and Messenger's).
    customer_service_window: bool = False
    #: A teammate may write first to a customer known only by their phone number
    #: (WhatsApp, SMS); other kinds only answer a chat the customer opened.
    reaches_phone_numbers: bool = False
    #: Shown when ``unregister_webhook`` failed: in plain words, what the provider may
    #: still send to Octopods and how the admin stops it at the provider.
    unregister_advice: str = ""

    def phone_external_id(self, phone: str) -> str:
        """How this kind names a customer by their E.164 ``phone`` (``external_id``):
        the number itself unless the provider says otherwise."""
        return phone

    def credentials(self, data: dict):
        return self.Credentials.from_dict(data)

    def verify(self, *, credentials, request: WebhookRequest) -> None:
        self.webhooks.verify(credentials=credentials, request=request)

    def parse(self, *, request: WebhookRequest) -> list[InboundEvent]:
        return self.webhooks.parse(request=request)

    def handshake(self, *, credentials, request: WebhookRequest) -> str:
        handshake = getattr(self.webhooks, "handshake", None)
        if handshake is None:
            raise NotImplementedError(f"{self.label} has no subscribe handshake")
        return handshake(credentials=credentials, request=request)

    @property
    def ack(self) -> tuple[bytes, str]:
        return self.webhooks.ACK

    @property
    def form(self) -> type:
        raise NotImplementedError

    def generated_secrets(self) -> dict:
        return {}

    def identify(self, *, data: dict) -> ChannelIdentity:
        raise NotImplementedError

    def register_webhook(self, *, credentials, webhook_url: str) -> None:
        raise NotImplementedError

    def unregister_webhook(self, *, credentials) -> None:
        raise NotImplementedError

    # --- the message path (issue: relay) -------------------------------------------
    # ``format_html`` turns an inbox reply's HTML into the channel's own formatting
    # (WhatsApp *bold* _italic_, Telegram's HTML subset, plain text for SMS).
    # ``send`` sends one OutboundMessage and returns the provider's message id; a
    # refusal raises ProviderError whose ``message`` says in plain words what failed
    # and what to do (it becomes a note in the inbox), ``permanent`` whether trying
    # again can help, ``retry_after`` when the provider said how long to wait.
    # ``fetch_media`` downloads a customer's file from the provider (only from the
    # provider's own hosts, at most ``max_bytes``).

    def format_html(self, html: str) -> str:
        raise NotImplementedError

    def send(self, *, credentials, message: OutboundMessage) -> str:
        raise NotImplementedError

    def fetch_media(self, *, credentials, media: Media, max_bytes: int) -> FetchedMedia:
        raise NotImplementedError

    # ``fetch_templates`` lists the templates the provider holds for the channel
    # (where ``approved_templates``): a ``TemplateListing``, or ProviderError.

    def fetch_templates(self, *, credentials):
        raise NotImplementedError

    # ``answer_tap`` stops the spinner on a button the customer tapped (a
    # ``ButtonTapToAnswer``'s ``query_id``), or raises ProviderError. Only kinds whose
    # parse returns those events implement it.

    def answer_tap(self, *, credentials, query_id: str) -> None:
        raise NotImplementedError
