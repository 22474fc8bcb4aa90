"""The interfaces every provider package implements, and their one error type.

Adapters take and return plain data (tokens, identities); they never import
``channels``. Each provider maps its own error bodies to ``ProviderError`` in one place
(its ``client.py``).
"""

from dataclasses import dataclass, field
from datetime import datetime


class ProviderError(Exception):
    """A provider call that did not give us what we asked for.

    ``permanent`` says whether trying again can help (a revoked token cannot; a 503 or
    a timeout might). ``unauthorized`` marks a rejected credential (HTTP 401), after
    which the connection needs to be re-authorised. ``retry_after`` is in seconds when
    the provider said so.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        status: int | None = None,
        code: str = "",
        unauthorized: bool = False,
        retry_after: float | None = None,
        field: str = "",
    ):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status = status
        self.code = code
        self.unauthorized = unauthorized
        self.retry_after = retry_after
        self.field = field


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str = ""
    expires_at: datetime | None = None


@dataclass(frozen=True)
class InboxAdminInfo:
    """A teammate of the provider workspace (replies are attributed to them)."""

    external_id: str
    name: str
    email: str = ""


@dataclass(frozen=True)
class Identity:
    """Which provider workspace a token belongs to."""

    external_id: str
    name: str
    admins: tuple[InboxAdminInfo, ...] = field(default=())


@dataclass(frozen=True)
class InboxCustomer:
    """The customer as the inbox should know them. ``external_id`` is our stable key
    for them in the inbox, ``<channel kind>:<provider user id>`` (e.g. ``whatsapp:
    15551234567``); ``phone`` is E.164 for phone channels; ``inbox_contact_id`` is the
    inbox's id for them from an earlier delivery ("" when unknown)."""

    external_id: str
    name: str = ""
    phone: str = ""
    inbox_contact_id: str = ""


@dataclass(frozen=True)
class InboxDelivery:
    """One customer message to put into the inbox.

    ``conversation_id`` is the conversation to append to ("" opens a new one, started by
    the customer). ``tag`` names the channel; a newly opened conversation is tagged with
    it. ``match`` picks among several inbox contacts that match the customer: "recent"
    (most recently updated), "user" (prefer users) or "lead" (prefer leads).
    ``reconcile`` says an earlier attempt ended without an answer and may have landed:
    look at the conversation before posting again, and return that part if it is there.
    ``admin_id`` is a teammate the adapter may act as where the provider needs one
    (tagging). ``channel_account_id`` is the inbox's own id for the channel where it
    has one (HubSpot's channel account, from ``channel_connect``). ``idempotency_key``
    is our stable id for the message: inboxes that take one (HubSpot's
    integrationIdempotencyId) make a repeated delivery a no-op. ``sent_at`` is when the
    customer sent it."""

    customer: InboxCustomer
    body: str
    attachment_urls: tuple[str, ...] = ()
    conversation_id: str = ""
    tag: str = ""
    match: str = "recent"
    reconcile: bool = False
    admin_id: str = ""
    channel_account_id: str = ""
    # The provider identity the channel speaks as (what ``channel_connect`` was given).
    channel_identity: str = ""
    idempotency_key: str = ""
    sent_at: datetime | None = None


@dataclass(frozen=True)
class InboxRefs:
    """Where a delivered message landed. ``opened`` is true when a new conversation was
    opened (none was given, or the given one is gone or refused the reply)."""

    contact_id: str
    conversation_id: str
    part_id: str
    opened: bool


@dataclass(frozen=True)
class InboxAttachment:
    url: str
    name: str = ""
    content_type: str = ""


@dataclass(frozen=True)
class AgentReply:
    """A teammate's reply in the inbox, to send to the customer on their channel.
    ``body_html`` is the inbox's HTML (Intercom's reply body)."""

    workspace_external_id: str
    conversation_id: str
    part_id: str
    admin_id: str
    admin_name: str
    body_html: str
    attachments: tuple[InboxAttachment, ...] = ()
    at: datetime | None = None
    # HubSpot names the customer by our thread id ("<kind>:<provider user id>") and the
    # channel account the reply came through; Intercom leaves these empty.
    customer_external_id: str = ""
    channel_account_id: str = ""


@dataclass(frozen=True)
class ConversationState:
    """A conversation was closed or (re)opened in the inbox."""

    workspace_external_id: str
    conversation_id: str
    open: bool
    at: datetime | None = None


InboxEvent = AgentReply | ConversationState


class InboxAdapter:
    """The inbox side (Intercom, HubSpot): where conversations live.

    Connecting is OAuth with fixed steps: ``authorization_url`` → the provider sends
    the admin back with a code → ``exchange_code`` → ``identify`` (the provider
    workspace's id and name). Providers whose access tokens expire implement
    ``refresh``. ``check`` proves a token still works; ``revoke`` gives it up where the
    provider allows (best effort: a failure is logged, never raised to the user).

    Every method raises ``ProviderError`` for anything the provider did not give us.
    """

    provider: str
    label: str
    #: Shown when the provider workspace already belongs to another Octopods account.
    conflict_message: str
    #: Whether the authorization request carries a PKCE challenge (RFC 7636, S256).
    uses_pkce: bool = False

    def is_configured(self) -> bool:
        raise NotImplementedError

    def authorization_url(self, *, state: str, redirect_uri: str, code_challenge: str) -> str:
        raise NotImplementedError

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        raise NotImplementedError

    def identify(self, *, tokens: TokenSet) -> Identity:
        raise NotImplementedError

    def refresh(self, *, refresh_token: str) -> TokenSet:
        raise NotImplementedError(f"{self.label} access tokens do not expire")

    def check(self, *, tokens: TokenSet) -> None:
        raise NotImplementedError

    def revoke(self, *, tokens: TokenSet) -> None:
        raise NotImplementedError

    # --- the message path (issue: relay) -------------------------------------------
    # ``deliver`` puts one customer message into the inbox: finds the contact (cached
    # id, then phone or external id, else creates a lead), appends to the given
    # conversation as the contact or opens a new one, tags a new one.
    # ``verify_webhook`` raises integrations.channel.WebhookRejected;
    # ``parse_webhook`` returns InboxEvents (our own API's echoes, notes and topics we
    # do not act on are left out) or raises integrations.channel.MalformedPayload.

    def deliver(self, *, tokens: TokenSet, delivery: InboxDelivery) -> InboxRefs:
        raise NotImplementedError

    def post_note(
        self,
        *,
        tokens: TokenSet,
        conversation_id: str,
        admin_id: str,
        body: str,
        customer_external_id: str = "",
        channel_account_id: str = "",
    ):
        """Show the team ``body`` in the conversation, never the customer: an internal
        note (Intercom), or where the inbox has none, the nearest thing it has (HubSpot:
        a message published by the channel account in the customer's thread, which
        needs ``customer_external_id`` and ``channel_account_id``)."""
        raise NotImplementedError

    def verify_webhook(self, *, request) -> None:
        raise NotImplementedError

    # ``channel_connect`` makes a channel known to the inbox where the inbox needs that
    # (HubSpot: a channel account in the app's custom channel, in one of the portal's
    # inboxes) and returns the inbox's id for it ("" where nothing is needed, Intercom);
    # ``channel_disconnect`` undoes it (best effort). ``reply_outcome`` tells the inbox
    # what became of an agent reply: HubSpot takes a SENT/FAILED status on the message;
    # Intercom has none, so a failure becomes an internal note by ``admin_id`` and a
    # success needs nothing.

    def channel_connect(self, *, tokens: TokenSet, name: str, identity: str) -> str:
        return ""

    def test_cleanup(self, *, tokens: TokenSet, refs: InboxRefs, admin_id: str) -> str:
        """Remove what a channel's round-trip test left in the inbox (its contact and
        conversation); returns what was done, in a sentence, for the admin to read."""
        return "The test message was left in the inbox."

    def channel_disconnect(self, *, tokens: TokenSet, channel_account_id: str) -> None:
        return None

    def reply_outcome(
        self,
        *,
        tokens: TokenSet,
        conversation_id: str,
        part_id: str,
        admin_id: str,
        error: str = "",
    ) -> None:
        """``error`` is "" when the reply was sent, else what failed in plain words."""
        if error:
            self.post_note(
                tokens=tokens, conversation_id=conversation_id, admin_id=admin_id, body=error
            )

    def parse_webhook(self, *, request) -> list[InboxEvent]:
        raise NotImplementedError
