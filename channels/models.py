import json
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import AccountScopedQuerySet
from integrations.registry import channel_adapter, channel_kind_choices
from octopods.crypto import EncryptedTextField
from workspaces.models import Workspace


def new_webhook_key() -> str:
    return secrets.token_urlsafe(24)


class ChannelQuerySet(AccountScopedQuerySet):
    account_lookup = "workspace__account"


class Channel(models.Model):
    """A messaging channel (a WhatsApp number, a bot, a page) inside one workspace."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="channels")
    # Built from the registry: a new kind is a new package plus one registry line.
    kind = models.CharField(max_length=16, choices=channel_kind_choices)
    name = models.CharField(max_length=120)
    # The provider identity this channel speaks as (phone-number id, bot id, Twilio
    # number, page id): bound to one channel at a time.
    identity = models.CharField(max_length=64, blank=True, default="")
    # The per-kind credentials as JSON, encrypted at rest; read through
    # ``credentials_data``, parsed by the kind's typed Credentials.
    credentials = EncryptedTextField(blank=True, default="")
    # The unguessable part of our webhook URL (never a provider token).
    webhook_key = models.CharField(max_length=64, unique=True, default=new_webhook_key)
    # When the provider accepted our webhook URL through its API (Telegram setWebhook,
    # Twilio's number, Meta's subscribed_apps), and when Meta's GET handshake proved
    # the admin pasted our callback URL and verify token.
    webhook_registered_at = models.DateTimeField(null=True, blank=True)
    webhook_verified_at = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Settings (channels/automations.py has the rules; settings_services.py the writes).
    # A message stays stored while its switch is off, so turning it back on restores it.
    welcome_enabled = models.BooleanField(default=False)
    welcome_message = models.TextField(blank=True, default="")
    away_enabled = models.BooleanField(default=False)
    # IANA name; the opening hours and holidays are in this zone's wall-clock time.
    time_zone = models.CharField(max_length=64, default="UTC")
    away_message = models.TextField(blank=True, default="")
    # Appended to agent replies; may hold {agent_name} and {channel_name}.
    signature = models.CharField(max_length=300, blank=True, default="")
    # A customer writing after their last conversation has been closed this long starts
    # a new conversation; sooner, the closed one is reopened.
    new_conversation_after = models.DurationField(default=timedelta(hours=24))
    # The inbox's own id for this channel where it keeps one (HubSpot's channel account).
    inbox_channel_id = models.CharField(max_length=64, blank=True, default="")
    # The provider's approved templates (WhatsApp): when they were last read in full,
    # and why the last try failed ("" when it did not).
    templates_synced_at = models.DateTimeField(null=True, blank=True)
    templates_sync_error = models.CharField(max_length=500, blank=True, default="")

    objects = ChannelQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "identity"],
                condition=~Q(identity=""),
                name="channel_unique_provider_identity",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def health(self) -> str:
        """The channel's state in one word, for lists: "error" (the last thing that
        happened was a refused or unreadable webhook), "receiving", "ready" (webhook in
        place, no message yet) or "setup" (the admin still has a step to do)."""
        if self.last_error_at and (
            self.last_inbound_at is None or self.last_error_at > self.last_inbound_at
        ):
            return "error"
        if self.last_inbound_at:
            return "receiving"
        if self.webhook_verified_at or (
            self.webhook_registered_at and not channel_adapter(self.kind).manual_setup
        ):
            return "ready"
        return "setup"

    @property
    def credentials_data(self) -> dict:
        return json.loads(self.credentials) if self.credentials else {}

    @credentials_data.setter
    def credentials_data(self, value: dict) -> None:
        self.credentials = json.dumps(value, sort_keys=True)


class Contact(models.Model):
    """A customer as one channel knows them."""

    # Indexed by contact_unique_per_channel, which starts with it.
    channel = models.ForeignKey(
        Channel, on_delete=models.CASCADE, related_name="contacts", db_index=False
    )
    # WhatsApp wa_id, Messenger PSID, Telegram user id, or the E.164 number for SMS.
    external_id = models.CharField(max_length=128)
    phone_e164 = models.CharField(max_length=20, blank=True, default="")
    # Where the provider reaches them, as its latest webhook named them: WhatsApp's
    # wa_id, which for a Brazilian, Mexican or Argentinian mobile may be another form of
    # the number the contact was first known by (integrations/phone_identity.py). Empty:
    # external_id. The database default lets the release before this one, still serving
    # during a deploy, insert contacts without naming it.
    address = models.CharField(max_length=128, blank=True, default="", db_default="")
    name = models.CharField(max_length=200, blank=True, default="")
    username = models.CharField(max_length=200, blank=True, default="")
    # The inbox's id for this customer, found or created by the first relay.
    inbox_contact_id = models.CharField(max_length=64, blank=True, default="")
    # One worker relays a contact at a time: it holds the contact until this moment
    # (a crashed worker's claim simply runs out), under a token of its claim alone. The
    # holder renews the lease as it goes and only the holder releases it; every message
    # it starts carries the token (Message.attempt_lease), so a worker that has lost
    # the contact cannot start anything more, and a message it had in flight is
    # neither sent again nor recorded twice.
    relay_lease_until = models.DateTimeField(null=True, blank=True)
    relay_lease_token = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="contact_unique_per_channel"
            ),
        ]
        # A customer's message finds their contact by any form of their number.
        indexes = [models.Index(fields=["channel", "phone_e164"], name="contact_channel_phone")]

    def __str__(self):
        return self.name or self.phone_e164 or self.external_id

    @property
    def send_to(self) -> str:
        """The recipient a reply is sent to: the provider's latest id for them."""
        return self.address or self.external_id

    @property
    def inbox_external_id(self) -> str:
        """Our key for the customer in the inbox: "<kind>:<provider user id>"."""
        return f"{self.channel.kind}:{self.external_id}"


class Conversation(models.Model):
    """A customer's conversation in the inbox, as far as we know it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="conversations")
    inbox_conversation_id = models.CharField(max_length=64)
    open = models.BooleanField(default=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # When the automatic away reply last went out in it (at most once a day).
    away_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "inbox_conversation_id"],
                name="conversation_unique_inbox_id",
            ),
        ]
        indexes = [models.Index(fields=["contact", "-created_at"], name="conversation_recent")]

    def __str__(self):
        return self.inbox_conversation_id


class Direction(models.TextChoices):
    INBOUND = "in", "Inbound"
    OUTBOUND = "out", "Outbound"


class Origin(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    AGENT = "agent", "Agent"
    AUTOMATION = "automation", "Automation"


class MessageStatus(models.TextChoices):
    RECEIVED = "received", "Received"  # inbound, stored, waiting for the relay
    RELAYED = "relayed", "Relayed"  # inbound, now in the inbox
    PENDING = "pending", "Pending"  # outbound, waiting to be sent
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"


class Message(models.Model):
    # Both indexed by composite indexes that start with them (Meta.indexes): every
    # index is one more write for each stored message.
    channel = models.ForeignKey(
        Channel, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    # Empty until an outbound message has been accepted by the provider.
    provider_message_id = models.CharField(max_length=255, blank=True, default="")
    type = models.CharField(max_length=16)
    text = models.TextField(blank=True, default="")
    # Media reference, location, contact cards, reaction, quoted reply, button payload.
    data = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=MessageStatus.choices)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.CUSTOMER)
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    # The inbox part: for an agent reply, the part it came from (idempotency: Intercom
    # resends a webhook it thinks failed); for a relayed message, the part we created.
    inbox_part_id = models.CharField(max_length=128, blank=True, default="")
    # Relay bookkeeping: tries so far and when the next may start (None: now).
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The lease token of the claim whose attempt is in flight: set when an attempt
    # starts (with next_attempt_at at the end of the lease), cleared with its outcome.
    # Still set when a later worker comes to it: the attempt's outcome is unknown.
    attempt_lease = models.UUIDField(null=True, blank=True)
    # Attempts whose outcome never became known (a worker killed mid-send, an error
    # after the call): an agent reply is sent at most once more after the first.
    unknown_outcomes = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_text = models.TextField(blank=True, default="")
    # When the provider says it was sent (inbound) or we sent it (outbound).
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # A provider retrying a webhook leaves one row.
            models.UniqueConstraint(
                fields=["channel", "provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="message_unique_provider_id",
            ),
            models.UniqueConstraint(
                fields=["channel", "inbox_part_id"],
                condition=~Q(inbox_part_id="") & Q(direction="out"),
                name="message_unique_inbox_part",
            ),
        ]
        indexes = [
            models.Index(fields=["channel", "-created_at"], name="message_channel_recent"),
            models.Index(fields=["contact", "created_at"], name="message_contact_order"),
            # The sweeper's question: what is waiting, and since when may it go.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["received", "pending"]),
                name="message_due",
            ),
        ]

    def __str__(self):
        return f"{self.get_direction_display()} {self.type} {self.provider_message_id}"


class OpeningHours(models.Model):
    """One block of a weekday during which a channel is open (out-of-office schedule).

    Times are minutes since local midnight rather than TimeFields so that a block can
    run to the end of the day (closes = 1440, "24:00"); an overnight shift is two
    blocks, 22:00-24:00 and 00:00-06:00 the next day.
    """

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField()  # 0 = Monday, as datetime.weekday()
    opens = models.PositiveSmallIntegerField()  # inclusive
    closes = models.PositiveSmallIntegerField()  # exclusive

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__lte=6) & Q(opens__lt=models.F("closes")) & Q(closes__lte=1440),
                name="opening_hours_valid_block",
            ),
        ]

    def __str__(self):
        return f"{self.weekday} {self.opens}-{self.closes}"


class Holiday(models.Model):
    """A local date on which a channel is closed all day."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "date"], name="holiday_unique_per_channel"),
        ]

    def __str__(self):
        return f"{self.date} {self.name}".strip()


class MessageTemplate(models.Model):
    """A saved text with numbered variables ({{1}}, {{2}}…) agents send to start or
    resume a conversation (SMS, Telegram, and any channel inside its customer-service
    window). WhatsApp's templates for after the 24-hour window are Meta's own, synced
    as WhatsAppTemplate."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="templates")
    name = models.CharField(max_length=100)
    language = models.CharField(max_length=16)  # en, en_US, pt_BR: Meta's codes
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "language", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "name", "language"], name="template_unique_per_channel"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.language})"


class TemplateStatus(models.TextChoices):
    """Meta's review states of a template (others Meta adds are stored as it names
    them)."""

    APPROVED = "APPROVED", "Approved"
    PENDING = "PENDING", "Pending review"
    REJECTED = "REJECTED", "Rejected"
    PAUSED = "PAUSED", "Paused"
    DISABLED = "DISABLED", "Disabled"
    FLAGGED = "FLAGGED", "Flagged"
    IN_APPEAL = "IN_APPEAL", "In appeal"
    PENDING_DELETION = "PENDING_DELETION", "Being deleted"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED", "Limit exceeded"
    ARCHIVED = "ARCHIVED", "Archived"


class WhatsAppTemplate(models.Model):
    """A template of the WhatsApp number's Business Account, as Meta last told us
    (synced: channels/template_services.py). ``components`` is Meta's JSON (HEADER,
    BODY, FOOTER, BUTTONS); integrations/whatsapp/templates.py reads it."""

    # Indexed by whatsapp_template_unique, which starts with it.
    channel = models.ForeignKey(
        Channel, on_delete=models.CASCADE, related_name="whatsapp_templates", db_index=False
    )
    meta_id = models.CharField(max_length=64)
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=16)
    status = models.CharField(max_length=32)
    category = models.CharField(max_length=32, blank=True, default="")
    parameter_format = models.CharField(max_length=16, default="POSITIONAL")
    components = models.JSONField(default=list, blank=True)
    # Meta's reason for a rejection or a pause, when it gives one.
    status_reason = models.CharField(max_length=200, blank=True, default="")
    synced_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "name", "language"], name="whatsapp_template_unique"
            ),
        ]
        indexes = [models.Index(fields=["meta_id"], name="whatsapp_template_meta_id")]

    def __str__(self):
        return f"{self.name} ({self.language})"

    @property
    def sendable(self) -> bool:
        return self.status == TemplateStatus.APPROVED

    def get_status_display(self) -> str:
        return TemplateStatus(self.status).label if self.status in TemplateStatus else self.status

    @property
    def status_class(self) -> str:
        """The badge a status wears on the pages: approved green, waiting or paused
        amber, anything that cannot be sent grey."""
        if self.status == TemplateStatus.APPROVED:
            return "status-active"
        if self.status in (TemplateStatus.PENDING, TemplateStatus.PAUSED, TemplateStatus.FLAGGED):
            return "status-needs_reconnect"
        return "status-disconnected"
