"""What the channel providers' stand-ins remember: where each endpoint's webhooks go,
which Meta assets subscribed the app, and the conversations a person holds on the
customer phone (both directions, with the provider's message ids)."""

from datetime import timedelta

from django.db import models
from django.utils import timezone

# The customer service window: WhatsApp and Messenger (PROVIDERS.md §3.7, §6.2).
SERVICE_WINDOW = timedelta(hours=24)
# Messenger's HUMAN_AGENT tag stretches the window for a person's replies.
HUMAN_AGENT_WINDOW = timedelta(days=7)


class Kind(models.TextChoices):
    TELEGRAM = "telegram", "Telegram"
    WHATSAPP = "whatsapp", "WhatsApp"
    MESSENGER = "messenger", "Messenger"
    TWILIO = "twilio", "Twilio SMS"


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

    scope = models.CharField(max_length=32, choices=Scope.choices)
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

    kind = models.CharField(max_length=16, choices=Kind.choices)
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
