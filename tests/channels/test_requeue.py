"""Failed messages go through the relay again: the log's Retry button and a command."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from channels.models import Channel, Contact, Message, MessageStatus
from workspaces.models import Provider, Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(cast):
    workspace = Workspace.objects.create(
        account=cast.account, provider=Provider.INTERCOM, external_id="acme", name="Acme"
    )
    return Channel.objects.create(workspace=workspace, kind="telegram", name="Bot", identity="1")


def failed(channel, direction, n, **extra):
    contact, _ = Contact.objects.get_or_create(channel=channel, external_id="555")
    return Message.objects.create(
        channel=channel,
        contact=contact,
        direction=direction,
        type="text",
        text=f"m{n}",
        status=MessageStatus.FAILED,
        attempts=10,
        next_attempt_at=timezone.now(),
        error_text="gave up",
        **extra,
    )


def test_retry_puts_a_failed_message_back_in_line(
    cast, channel, django_capture_on_commit_callbacks
):
    inbound, outbound = failed(channel, "in", 1), failed(channel, "out", 2)
    client = cast.admin_client
    page = client.get(reverse("channels:detail", args=[channel.pk])).content.decode()
    assert reverse("channels:message_retry", args=[channel.pk, outbound.pk]) in page
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("channels:message_retry", args=[channel.pk, outbound.pk]))
    assert response.status_code == 302
    assert len(callbacks) == 1  # the relay is woken once it is committed
    outbound.refresh_from_db()
    inbound.refresh_from_db()
    assert (outbound.status, outbound.attempts, outbound.next_attempt_at) == (
        MessageStatus.PENDING,
        0,
        None,
    )
    assert inbound.status == MessageStatus.FAILED  # only the one asked for


def test_retry_of_a_message_that_has_not_failed_changes_nothing(cast, channel):
    message = failed(channel, "out", 1)
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.SENT)
    cast.admin_client.post(reverse("channels:message_retry", args=[channel.pk, message.pk]))
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_a_message_of_another_channel_is_a_404(cast, channel):
    other = Channel.objects.create(
        workspace=channel.workspace, kind="sms", name="SMS", identity="+1"
    )
    message = failed(other, "out", 1)
    url = reverse("channels:message_retry", args=[channel.pk, message.pk])
    assert cast.admin_client.post(url).status_code == 404


def test_members_see_no_retry_button(cast, channel):
    message = failed(channel, "out", 1)
    page = cast.member_client.get(reverse("channels:detail", args=[channel.pk])).content.decode()
    assert reverse("channels:message_retry", args=[channel.pk, message.pk]) not in page


def test_the_command_requeues_by_id_and_by_time(channel):
    old, recent, other = (failed(channel, "in", n) for n in range(3))
    Message.objects.filter(pk=old.pk).update(created_at=datetime(2026, 1, 1, tzinfo=UTC))
    out = StringIO()
    call_command("requeue_messages", "--ids", str(other.pk), stdout=out)
    assert "1 failed messages re-queued" in out.getvalue()
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    call_command("requeue_messages", "--since", since, "--dry-run", stdout=out)
    assert "1 failed messages would be re-queued" in out.getvalue()
    call_command("requeue_messages", "--since", since, stdout=StringIO())
    statuses = dict(Message.objects.values_list("pk", "status"))
    assert statuses == {
        old.pk: MessageStatus.FAILED,
        recent.pk: MessageStatus.RECEIVED,
        other.pk: MessageStatus.RECEIVED,
    }


def test_the_command_needs_a_selection_and_a_zoned_time(channel):
    with pytest.raises(CommandError, match="--ids"):
        call_command("requeue_messages")
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("requeue_messages", "--since", "yesterday")
