"""The inbox app's part in what the relay does.

A proactive message sent without "Send & open conversation" to a customer with no open
conversation: the customer's answer makes the relay open one. When the workspace asks
for it, that conversation is assigned to the teammate who sent the message, as the
conversations the panel opens and the customer's open one already are
(inboxapp/services.py, answer_assign)."""

from datetime import timedelta

from django.utils import timezone

from .models import ProactiveSend
from .services import answer_assign

# How long after a proactive message a conversation the customer opens counts as its
# answer.
ANSWER_WINDOW = timedelta(days=7)


def assign_opened_answer(*, contact, conversation, **kwargs) -> None:
    """relay.signals.conversation_opened: the newest send to this contact within the
    window that opened no conversation and has no assignment yet gets this one."""
    send = (
        ProactiveSend.objects.filter(
            workspace_id=conversation.workspace_id,
            contact=contact,
            inbox_conversation_id="",
            assign_outcome="",
            created_at__gte=timezone.now() - ANSWER_WINDOW,
        )
        .select_related("workspace")
        .order_by("-created_at", "-pk")
        .first()
    )
    if send is not None:
        answer_assign(
            workspace=send.workspace, send=send, conversation_id=conversation.inbox_conversation_id
        )
