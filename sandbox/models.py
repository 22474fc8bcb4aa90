"""What the channel providers' stand-ins remember: where each endpoint's webhooks go,
which Meta assets subscribed the app, and the conversations a person holds on the
customer phone (both directions, with the provider's message ids)."""

import secrets
from datetime import timedelta

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from .kinds import kind_choices

# The customer service window: WhatsApp and Messenger (PROVIDERS.md §3.7, §6.2).
SERVICE_WINDOW = timedelta(hours=24)
# Messenger's HUMAN_AGENT tag stretches the window for a person's replies.
HUMAN_AGENT_WINDOW = timedelta(days=7)


def webhook_scope_choices() -> list[tuple[str, str]]:
    """Webhook.scope's choices (a callable: a new scope needs no migration)."""
    return Webhook.Scope.choices


class Webhook(models.Model):
    """A callback URL the stand-in provider POSTs to.

    ``owner`` is what it is registered on: a bot id (Telegram ``setWebhook``), a
    phone-number id or a WABA id (Meta's webhook overrides), an object of the Meta app
    ("page", "whatsapp_business_account"; set in the app dashboard by a person) or a
    Twilio number's PN sid. ``secret`` is Telegram's secret_token or Meta's verify token.
    """

    class Scope(models.TextChoices):
        TELEGRAM_BOT = "telegram_bot", "Telegram bot"
        WHATSAPP_NUMBER = "whatsapp_number", "WhatsApp number override"
        WHATSAPP_WABA = "whatsapp_waba", "WhatsApp Business Account override"
        META_APP = "meta_app", "Meta app callback"
        TWILIO_NUMBER = "twilio_number", "Twilio number"
        VIBER_BOT = "viber_bot", "Viber bot"
        LINE_CHANNEL = "line_channel", "LINE channel"

    scope = models.CharField(max_length=32, choices=webhook_scope_choices)
    owner = models.CharField(max_length=64)
    url = models.URLField(max_length=2048)
    secret = models.CharField(max_length=256, blank=True, default="")
    # Telegram allowed_updates / max_connections, Twilio SmsMethod, Meta fields.
    options = models.JSONField(default=dict, blank=True)
    # The last failed delivery, as getWebhookInfo reports it.
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "owner"], name="sandbox_webhook_per_owner")
        ]

    def __str__(self):
        return f"{self.get_scope_display()} {self.owner} → {self.url}"


class AppSubscription(models.Model):
    """A WhatsApp Business Account or a Page subscribed to the Meta app
    (``POST /{id}/subscribed_apps``): without it Meta sends that asset's webhooks
    nowhere, whatever callback URL is set."""

    class Owner(models.TextChoices):
        WABA = "waba", "WhatsApp Business Account"
        PAGE = "page", "Page"

    owner_kind = models.CharField(max_length=8, choices=Owner.choices)
    owner_id = models.CharField(max_length=64)
    subscribed_fields = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner_kind", "owner_id"], name="sandbox_app_subscription_per_owner"
            )
        ]

    def __str__(self):
        return f"{self.get_owner_kind_display()} {self.owner_id}"


class Conversation(models.Model):
    """One customer talking to one channel endpoint (a bot, a WhatsApp number, a Page,
    a Twilio number). ``customer_id`` is the provider's id for them: Telegram user id,
    WhatsApp wa_id, Messenger PSID, or the E.164 number for SMS."""

    # The kinds sandbox/kinds.py registers (a callable: a new kind needs no migration).
    kind = models.CharField(max_length=16, choices=kind_choices)
    endpoint = models.CharField(max_length=64)
    customer_id = models.CharField(max_length=64)
    customer_name = models.CharField(max_length=120, blank=True, default="")
    # Opens the 24-hour window; the phone's "25 hours later" moves it back.
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    # Telegram numbers a chat's messages, both directions, from 1.
    message_counter = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "endpoint", "customer_id"], name="sandbox_conversation_per_customer"
            )
        ]

    def __str__(self):
        return f"{self.customer_name or self.customer_id} on {self.kind} {self.endpoint}"

    def next_message_number(self) -> int:
        Conversation.objects.filter(pk=self.pk).update(
            message_counter=models.F("message_counter") + 1
        )
        self.refresh_from_db(fields=["message_counter"])
        return self.message_counter

    def window_open(self, *, length: timedelta = SERVICE_WINDOW) -> bool:
        last = self.last_customer_message_at
        return last is not None and timezone.now() - last < length


# A Telegram button tap is kept with the customer's messages (content type TAP, the
# callback query's id as its provider id); answerCallbackQuery sets its status.
TAP = "tap"
TAP_ANSWERED = "answered"


class Message(models.Model):
    class Direction(models.TextChoices):
        IN = "in", "From the customer"
        OUT = "out", "To the customer"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    provider_message_id = models.CharField(max_length=128, db_index=True)
    # text, image, location, template, document, … as the provider names it.
    content_type = models.CharField(max_length=32, default="text")
    text = models.TextField(blank=True, default="")
    # Inbound: the location sent. Outbound: what Octopods asked the provider to send.
    detail = models.JSONField(default=dict, blank=True)
    # The provider's handle on an attachment the customer sent (WhatsApp media id,
    # Telegram file_id, Twilio ME sid, Messenger CDN path).
    media_ref = models.CharField(max_length=128, blank=True, default="", db_index=True)
    # Outbound: accepted/queued → sent → delivered → read (as the phone reported them).
    status = models.CharField(max_length=16, blank=True, default="")
    # Twilio: where this message's status callbacks go (the send's StatusCallback).
    status_callback = models.URLField(max_length=2048, blank=True, default="")
    # Inbound: what the webhook answered ("Delivered to your webhook (200)", …).
    outcome = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.direction} {self.provider_message_id}"


# --- Intercom's inbox ----------------------------------------------------------------
# What a fake Intercom workspace holds: contacts, their conversations and the parts of
# each, and tags. ``workspace`` is the workspace's id_code (directory.INTERCOM_WORKSPACES);
# every lookup is scoped by it, as Intercom scopes every call by the token's workspace.


def new_intercom_contact_id() -> str:
    # Intercom's contact ids are 24 hex characters.
    return secrets.token_hex(12)


class IntercomContact(models.Model):
    class Role(models.TextChoices):
        USER = "user", "User"
        LEAD = "lead", "Lead"

    workspace = models.CharField(max_length=32)
    intercom_id = models.CharField(max_length=24, unique=True, default=new_intercom_contact_id)
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.USER)
    external_id = models.CharField(max_length=255, blank=True, default="")
    email = models.CharField(max_length=255, blank=True, default="")
    phone = models.CharField(max_length=64, blank=True, default="")
    name = models.CharField(max_length=255, blank=True, default="")
    avatar = models.URLField(max_length=2048, blank=True, default="")
    custom_attributes = models.JSONField(default=dict, blank=True)
    signed_up_at = models.DateTimeField(null=True, blank=True)
    last_replied_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            # Intercom answers 409 to a second contact with the same external_id.
            models.UniqueConstraint(
                fields=["workspace", "external_id"],
                condition=~models.Q(external_id=""),
                name="sandbox_intercom_contact_external_id",
            )
        ]

    def __str__(self):
        return f"{self.name or self.email or self.phone or self.intercom_id} in {self.workspace}"


class IntercomTag(models.Model):
    workspace = models.CharField(max_length=32)
    name = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            # Intercom's tag names are case-insensitive: "WhatsApp" finds "whatsapp".
            models.UniqueConstraint("workspace", Lower("name"), name="sandbox_intercom_tag_name")
        ]

    def __str__(self):
        return self.name


class IntercomConversation(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        SNOOZED = "snoozed", "Snoozed"

    workspace = models.CharField(max_length=32)
    contact = models.ForeignKey(
        IntercomContact, on_delete=models.CASCADE, related_name="conversations"
    )
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    read = models.BooleanField(default=False)
    title = models.CharField(max_length=255, blank=True, default="")
    admin_assignee_id = models.CharField(max_length=32, blank=True, default="")
    team_assignee_id = models.CharField(max_length=32, blank=True, default="")
    snoozed_until = models.DateTimeField(null=True, blank=True)
    # Set by a customer's message, cleared by a teammate's reply, as Intercom does.
    waiting_since = models.DateTimeField(null=True, blank=True)
    tags = models.ManyToManyField(IntercomTag, through="IntercomTagging", related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # The last activity: the inbox lists the most recent first.
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        indexes = [
            models.Index(fields=["workspace", "-updated_at"], name="sandbox_ic_conv_activity")
        ]

    def __str__(self):
        return f"Conversation {self.pk} in {self.workspace}"

    @property
    def is_open(self) -> bool:
        return self.state != self.State.CLOSED


class IntercomPart(models.Model):
    """A conversation part. The customer's first message is stored as a part of type
    ``source``: Intercom shows it as the conversation's ``source``, not among its parts."""

    class Type(models.TextChoices):
        SOURCE = "source", "First message"
        COMMENT = "comment", "Reply"
        NOTE = "note", "Internal note"
        CLOSE = "close", "Closed"
        OPEN = "open", "Reopened"
        SNOOZED = "snoozed", "Snoozed"
        ASSIGNMENT = "assignment", "Assigned"

    class Author(models.TextChoices):
        ADMIN = "admin", "Admin"
        USER = "user", "User"
        LEAD = "lead", "Lead"
        BOT = "bot", "Bot"

    conversation = models.ForeignKey(
        IntercomConversation, on_delete=models.CASCADE, related_name="parts"
    )
    part_type = models.CharField(max_length=16, choices=Type.choices)
    body = models.TextField(blank=True, default="")
    author_type = models.CharField(max_length=8, choices=Author.choices)
    author_id = models.CharField(max_length=32)
    author_name = models.CharField(max_length=255, blank=True, default="")
    author_email = models.CharField(max_length=255, blank=True, default="")
    # [{"type": "upload", "name", "url", "content_type", "filesize", "width", "height"}]
    attachments = models.JSONField(default=list, blank=True)
    # The app that wrote the part through the API; empty (null in JSON) for parts typed
    # in the inbox.
    app_package_code = models.CharField(max_length=64, blank=True, default="")
    assigned_to = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    # The webhook a part typed in the inbox page caused: Octopods dedupes on its id, so a
    # redelivery repeats it.
    notification_id = models.CharField(max_length=64, blank=True, default="")
    notification_topic = models.CharField(max_length=64, blank=True, default="")
    delivery_attempts = models.PositiveIntegerField(default=0)
    webhook_outcome = models.TextField(blank=True, default="")
    webhook_ok = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.part_type} {self.pk} by {self.author_type} {self.author_id}"


class IntercomTagging(models.Model):
    conversation = models.ForeignKey(IntercomConversation, on_delete=models.CASCADE)
    tag = models.ForeignKey(IntercomTag, on_delete=models.CASCADE)
    applied_by = models.CharField(max_length=32, blank=True, default="")
    applied_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["applied_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "tag"], name="sandbox_intercom_tagging")
        ]

    def __str__(self):
        return f"{self.tag} on {self.conversation_id}"


class IntercomFault(models.Model):
    """Armed failures for the sandbox's Intercom API: the next ``remaining`` calls (of
    ``workspace`` only, when set) answer ``status``, so reliability tests can drive a
    rate-limit storm or an outage through the real HTTP path. Oldest first."""

    status = models.PositiveSmallIntegerField()
    remaining = models.PositiveIntegerField()
    workspace = models.CharField(max_length=32, blank=True, default="")
    # A slow Intercom: the call is answered this much later. With status 200 the call
    # is carried out first and its real answer comes late (the contact or part exists
    # while the caller still waits), as when a response is slow to come back.
    delay_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.status}, {self.remaining} more"


# --- HubSpot's custom channels ----------------------------------------------------------
# The app's custom channels (registered with the developer API key), the channel
# accounts portals connect to them, and the threads and messages in each. ``portal`` is
# the portal's hub id (directory.HUBSPOT_PORTALS); every OAuth call is scoped by the
# token's portal, as HubSpot scopes it.


def new_hubspot_message_id() -> str:
    return secrets.token_hex(16)


class HubSpotChannel(models.Model):
    app_id = models.PositiveIntegerField()
    name = models.CharField(max_length=255)
    capabilities = models.JSONField(default=dict, blank=True)
    # Empty: HubSpot's events go to the app's one endpoint (PUBLIC_BASE_URL/hooks/hubspot/).
    webhook_url = models.URLField(max_length=2048, blank=True, default="")
    connection_redirect_url = models.URLField(max_length=2048, blank=True, default="")
    description = models.TextField(blank=True, default="")
    logo_url = models.URLField(max_length=2048, blank=True, default="")
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"Custom channel {self.pk} “{self.name}”"


class HubSpotChannelAccount(models.Model):
    """One connection of a custom channel in one of a portal's inboxes (say a WhatsApp
    number), with the delivery identifier customers reach it by."""

    channel = models.ForeignKey(HubSpotChannel, on_delete=models.CASCADE, related_name="accounts")
    portal = models.PositiveBigIntegerField()
    inbox_id = models.CharField(max_length=32)
    name = models.CharField(max_length=255)
    # {"type": "HS_PHONE_NUMBER", "value": "+15550001111"}, or {} when none was given.
    delivery_identifier = models.JSONField(default=dict, blank=True)
    # False disables the account: HubSpot takes no messages for it and agents cannot reply.
    authorized = models.BooleanField(default=True)
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["portal", "channel"], name="sandbox_hs_account_portal")]

    def __str__(self):
        return f"{self.name} in portal {self.portal}"


class HubSpotThread(models.Model):
    """A conversation in the inbox: one per channel account and integrationThreadId."""

    account = models.ForeignKey(
        HubSpotChannelAccount, on_delete=models.CASCADE, related_name="threads"
    )
    integration_thread_id = models.CharField(max_length=255)
    # The customer, as the last incoming message named them: agents' replies go back to
    # this delivery identifier.
    customer_name = models.CharField(max_length=255, blank=True, default="")
    customer_identifier = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The last activity: the inbox lists the most recent first.
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "integration_thread_id"], name="sandbox_hs_thread_per_id"
            )
        ]

    def __str__(self):
        return f"Thread {self.pk} ({self.integration_thread_id})"


class HubSpotMessage(models.Model):
    class Direction(models.TextChoices):
        INCOMING = "INCOMING", "From the customer"
        OUTGOING = "OUTGOING", "To the customer"

    class Client(models.TextChoices):
        # Published through the API by the app, or typed by an agent in HubSpot.
        INTEGRATION = "INTEGRATION", "Integration"
        HUBSPOT = "HUBSPOT", "HubSpot"

    class Status(models.TextChoices):
        # An agent's reply waits here until the app reports what became of it.
        PENDING = "", "Waiting for the app"
        SENT = "SENT", "Sent"
        FAILED = "FAILED", "Failed"
        RECEIVED = "RECEIVED", "Received"
        READ = "READ", "Read"

    thread = models.ForeignKey(HubSpotThread, on_delete=models.CASCADE, related_name="messages")
    account = models.ForeignKey(
        HubSpotChannelAccount, on_delete=models.CASCADE, related_name="messages"
    )
    message_id = models.CharField(max_length=32, unique=True, default=new_hubspot_message_id)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    client = models.CharField(max_length=16, choices=Client.choices)
    # The app's integrationIdempotencyId: a repeat publish answers the first message.
    idempotency_id = models.CharField(max_length=255, blank=True, default="")
    text = models.TextField(blank=True, default="")
    rich_text = models.TextField(blank=True, default="")
    senders = models.JSONField(default=list, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    attachments = models.JSONField(default=list, blank=True)
    # When the app says the message was sent or received (its ``timestamp``).
    sent_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=8, choices=Status.choices, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # The OUTGOING_CHANNEL_MESSAGE_CREATED webhook an agent's reply caused.
    delivery_attempts = models.PositiveIntegerField(default=0)
    webhook_outcome = models.TextField(blank=True, default="")
    webhook_ok = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "idempotency_id"],
                condition=~models.Q(idempotency_id=""),
                name="sandbox_hs_message_idempotency",
            )
        ]

    def __str__(self):
        return f"{self.direction} {self.message_id}"


class HubSpotFault(models.Model):
    """Armed failures for the sandbox's HubSpot API: the next ``remaining`` calls (of the
    ``portal`` hub id only, when set) answer ``status``. Oldest first."""

    status = models.PositiveSmallIntegerField()
    remaining = models.PositiveIntegerField()
    portal = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.status}, {self.remaining} more"
