from django.conf import settings
from django.db import models

from accounts.models import Account, AccountScopedQuerySet
from octopods.crypto import EncryptedTextField


class Provider(models.TextChoices):
    INTERCOM = "intercom", "Intercom"
    HUBSPOT = "hubspot", "HubSpot"


class Status(models.TextChoices):
    ACTIVE = "active", "Active"
    DISCONNECTED = "disconnected", "Disconnected"
    NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"


class ContactMatch(models.TextChoices):
    RECENT = "recent", "The most recently updated contact"
    USER = "user", "A user before a lead"
    LEAD = "lead", "A lead before a user"


class Workspace(models.Model):
    """One connection to one Intercom workspace or one HubSpot portal.

    A provider workspace belongs to at most one Octopods account: the unique constraint
    on (provider, external_id) spans all accounts and decides races.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="workspaces")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    # Intercom: the app's id_code. HubSpot: the portal (hub) id.
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    access_token = EncryptedTextField(blank=True, default="")
    refresh_token = EncryptedTextField(blank=True, default="")
    token_expires_at = models.DateTimeField(null=True, blank=True)
    # Which inbox contact gets a customer's messages when several match their number.
    contact_match = models.CharField(
        max_length=8, choices=ContactMatch.choices, default=ContactMatch.RECENT
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AccountScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="workspace_unique_provider_external_id"
            ),
        ]
        indexes = [models.Index(fields=["account", "name"], name="workspace_account_name")]

    def __str__(self):
        return f"{self.name} ({self.get_provider_display()})"


class InboxAdmin(models.Model):
    """A teammate of the provider workspace (an Intercom admin), kept for attributing
    replies to the right person."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="admins")
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"], name="inbox_admin_unique_external_id"
            ),
        ]
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name or self.email or self.external_id
