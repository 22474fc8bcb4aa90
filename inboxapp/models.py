from django.db import models

from channels.models import Contact, Message
from workspaces.models import Workspace


class ProactiveSend(models.Model):
    """A message a teammate sent from the Octopods panel in the Intercom inbox: who
    sent it, to whom, and the outbound message the relay sends (its status is the
    message's, kept current by the providers' status webhooks)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="+")
    # Minted when the preview is shown and carried in the canvas's stored_data: a double
    # click (two submits of the same preview) finds the first send instead of a second.
    idempotency_key = models.CharField(max_length=64)
    admin_id = models.CharField(max_length=64)
    admin_name = models.CharField(max_length=200, blank=True, default="")
    # The Intercom conversation "Send & open conversation" opened, and why it could not
    # be opened when it was asked for and failed.
    inbox_conversation_id = models.CharField(max_length=64, blank=True, default="")
    open_error = models.CharField(max_length=500, blank=True, default="")
    # What became of assigning the conversation to the sender (the workspace setting),
    # in a sentence for the status screen; "" when it was not asked for.
    assign_outcome = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "idempotency_key"], name="proactive_send_unique_key"
            ),
        ]
        indexes = [models.Index(fields=["contact", "-created_at"], name="proactive_send_recent")]

    def __str__(self):
        return f"{self.admin_name or self.admin_id} → {self.contact}"


class InboxAppSettings(models.Model):
    """The inbox app's settings for one workspace (a row only once an admin saved)."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="inbox_app_settings"
    )
    # The conversation a proactive message's answer lands in is assigned to the
    # teammate who sent it.
    assign_answer_to_sender = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "inbox app settings"

    def __str__(self):
        return f"Inbox app settings of {self.workspace}"
