from django.db import models

from accounts.models import AccountScopedQuerySet
from workspaces.models import Workspace


class Kind(models.TextChoices):
    WHATSAPP = "whatsapp", "WhatsApp"
    SMS = "sms", "SMS"
    TELEGRAM = "telegram", "Telegram"
    MESSENGER = "messenger", "Messenger"


class ChannelQuerySet(AccountScopedQuerySet):
    account_lookup = "workspace__account"


class Channel(models.Model):
    """A messaging channel (a WhatsApp number, a bot, a page) inside one workspace."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"
