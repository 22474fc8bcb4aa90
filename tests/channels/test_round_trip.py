"""Test round trip, against the sandbox's Intercom over HTTP."""

import pytest
from django.db.models.signals import post_save
from django.urls import reverse

from channels.models import Channel, Contact, Message
from octopods.settings.base import sandbox_provider_settings
from sandbox import tokens
from sandbox.models import IntercomContact, IntercomConversation, IntercomFault
from workspaces.models import InboxAdmin, Provider, Status, Workspace

pytestmark = pytest.mark.django_db(transaction=True)


def sandbox_workspace(cast, live_server, settings) -> Workspace:
    """The cast's workspace connected to the sandbox's Intercom, served by the live
    server, with the sandbox's providers configured."""
    settings.PUBLIC_BASE_URL = live_server.url
    for name, value in sandbox_provider_settings(live_server.url).items():
        setattr(settings, name, value)
    workspace = Workspace.objects.create(
        account=cast.account,
        provider=Provider.INTERCOM,
        external_id="sbx-acme",
        name="Acme Support",
        access_token=tokens.issue("intercom.token", ws="sbx-acme"),
    )
    InboxAdmin.objects.create(workspace=workspace, external_id="1001", name="Ada Admin")
    return workspace


@pytest.fixture
def channel(cast, live_server, settings):
    workspace = sandbox_workspace(cast, live_server, settings)
    channel = Channel(workspace=workspace, kind="telegram", name="Acme bot", identity="7000000001")
    channel.credentials_data = {
        "bot_token": "7000000001:AAHsandbox-acme-support-bot-token01",
        "secret_token": "s3cret",
        "bot_id": "7000000001",
        "bot_username": "acme_support_bot",
    }
    channel.save()
    return channel


def run(cast, channel):
    response = cast.admin_client.post(reverse("channels:round_trip", args=[channel.pk]))
    assert response.status_code == 200
    return response.context["steps"], response.content.decode()


def test_a_round_trip_shows_each_step_and_leaves_nothing_behind(cast, channel):
    seen_in_inbox = []

    def spy(sender, instance, created, **kwargs):
        if created:
            seen_in_inbox.append(instance.pk)

    post_save.connect(spy, sender=IntercomConversation)
    try:
        steps, html = run(cast, channel)
    finally:
        post_save.disconnect(spy, sender=IntercomConversation)
    assert [(s.name, s.ok) for s in steps] == [
        ("Message stored", True),
        ("Contact matched or created", True),
        ("Conversation opened", True),
        ("Reply route ready", True),
        ("Cleaned up", True),
    ]
    assert seen_in_inbox  # a conversation really was opened in the inbox
    assert "Replies in that conversation go out on Telegram" in html
    # Nothing left: not in the inbox, not in the channel's log.
    assert not IntercomContact.objects.exists()
    assert not IntercomConversation.objects.exists()
    assert not Contact.objects.exists() and not Message.objects.exists()


def test_a_failing_inbox_is_shown_and_cleaned_up_here(cast, channel):
    IntercomFault.objects.create(status=503, remaining=5, workspace="sbx-acme")
    steps, _ = run(cast, channel)
    assert [(s.name, s.ok) for s in steps] == [
        ("Message stored", True),
        ("Delivered to Intercom", False),
    ]
    assert "503" in steps[1].detail
    assert not Contact.objects.exists()


def test_a_workspace_that_needs_reconnecting_says_so(cast, channel):
    Workspace.objects.filter(pk=channel.workspace_id).update(status=Status.NEEDS_RECONNECT)
    steps, _ = run(cast, channel)
    assert len(steps) == 1 and not steps[0].ok
    assert "reconnect" in steps[0].detail
