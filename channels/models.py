import json
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import AccountScopedQuerySet
from integrations.registry import channel_kind_choices
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
    def credentials_data(self) -> dict:
        return json.loads(self.credentials) if self.credentials else {}

    @credentials_data.setter
    def credentials_data(self, value: dict) -> None:
        self.credentials = json.dumps(value, sort_keys=True)


class Contact(models.Model):
    """A customer as one channel knows them."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="contacts")
    # WhatsApp wa_id, Messenger PSID, Telegram user id, or the E.164 number for SMS.
    external_id = models.CharField(max_length=128)
    phone_e164 = models.CharField(max_length=20, blank=True, default="")
    name = models.CharField(max_length=200, blank=True, default="")
    username = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="contact_unique_per_channel"
            ),
        ]

    def __str__(self):
        return self.name or self.phone_e164 or self.external_id


class Direction(models.TextChoices):
    INBOUND = "in", "Inbound"
    OUTBOUND = "out", "Outbound"


class MessageStatus(models.TextChoices):
    RECEIVED = "received", "Received"  # inbound, stored, waiting for the relay
    RELAYED = "relayed", "Relayed"  # inbound, now in the inbox
    PENDING = "pending", "Pending"  # outbound, waiting to be sent
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"


class Message(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="messages")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    # Empty until an outbound message has been accepted by the provider.
    provider_message_id = models.CharField(max_length=255, blank=True, default="")
    type = models.CharField(max_length=16)
    text = models.TextField(blank=True, default="")
    # Media reference, location, contact cards, reaction, quoted reply, button payload.
    data = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=MessageStatus.choices)
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
        ]
        indexes = [
            models.Index(fields=["channel", "-created_at"], name="message_channel_recent"),
            models.Index(fields=["contact", "created_at"], name="message_contact_order"),
        ]

    def __str__(self):
        return f"{self.get_direction_display()} {self.type} {self.provider_message_id}"
