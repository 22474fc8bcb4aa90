"""/readyz's backlog check: the oldest message due to be relayed, against
READY_MAX_BACKLOG_AGE (octopods/health.py, relay/backlog.py ``due_messages``)."""

from datetime import timedelta

from django.utils import timezone

from channels.models import Direction, Message, MessageStatus
from workspaces.models import Status, Workspace


def _waiting(contact, **fields):
    message = Message.objects.create(
        channel=contact.channel,
        contact=contact,
        direction=Direction.INBOUND,
        type="text",
        text="hello",
        status=MessageStatus.RECEIVED,
        sent_at=timezone.now(),
    )
    Message.objects.filter(pk=message.pk).update(**fields)
    return message


def test_a_backlog_older_than_the_threshold_is_not_ready(client, contact, settings, caplog):
    settings.READY_MAX_BACKLOG_AGE = 60
    long_ago = timezone.now() - timedelta(minutes=5)
    # Waiting long, but not due: a retry backing off until later.
    backing_off = _waiting(
        contact, created_at=long_ago, next_attempt_at=timezone.now() + timedelta(minutes=1)
    )
    # Due since a moment ago only.
    _waiting(contact, created_at=long_ago, next_attempt_at=timezone.now() - timedelta(seconds=5))
    # Fresh.
    _waiting(contact)
    assert client.get("/readyz").json()["backlog"] == "ok"

    Message.objects.filter(pk=backing_off.pk).update(next_attempt_at=None)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["backlog"] == "not ok"
    assert "the oldest due message has waited" in caplog.text


def test_messages_of_a_paused_workspace_do_not_make_it_unready(client, contact, settings):
    settings.READY_MAX_BACKLOG_AGE = 60
    _waiting(contact, created_at=timezone.now() - timedelta(minutes=5))
    Workspace.objects.filter(pk=contact.channel.workspace_id).update(status=Status.NEEDS_RECONNECT)
    assert client.get("/readyz").json()["backlog"] == "ok"
