"""The workspace setting that assigns a proactive message's answer to its sender: saved
by admins on the workspace page, applied to the conversation the answer lands in."""

import json

import pytest
from django.conf import settings
from django.urls import reverse

from channels.models import Conversation
from inboxapp.models import InboxAppSettings
from workspaces.models import Provider, Workspace

from .conftest import click, initialize, words, wrote

pytestmark = pytest.mark.django_db


def settings_url(workspace) -> str:
    return reverse("inboxapp:settings", args=[workspace.pk])


def assigned(workspace) -> bool:
    return InboxAppSettings.objects.filter(
        workspace=workspace, assign_answer_to_sender=True
    ).exists()


def test_an_admin_turns_it_on_and_off(cast, workspace):
    on = cast.admin_client.post(settings_url(workspace), {"assign_answer_to_sender": "on"})
    assert on.status_code == 302 and assigned(workspace)

    cast.admin_client.post(settings_url(workspace), {})
    assert not assigned(workspace)


def test_a_member_may_not_change_it(cast, workspace):
    response = cast.member_client.post(settings_url(workspace), {"assign_answer_to_sender": "on"})

    assert response.status_code == 403
    assert not assigned(workspace)


def test_an_outsider_gets_404_for_another_accounts_workspace(cast, workspace):
    response = cast.outsider_client.post(settings_url(workspace), {"assign_answer_to_sender": "on"})

    assert response.status_code == 404
    assert not assigned(workspace)


def test_a_hubspot_portal_has_no_inbox_app(cast):
    portal = Workspace.objects.create(
        account=cast.account, provider=Provider.HUBSPOT, external_id="123", name="Portal"
    )

    response = cast.admin_client.post(settings_url(portal), {"assign_answer_to_sender": "on"})

    assert response.status_code == 404


def test_the_workspace_page_shows_it_to_admins_and_says_it_to_members(cast, workspace):
    InboxAppSettings.objects.create(workspace=workspace, assign_answer_to_sender=True)
    page = reverse("workspaces:detail", args=[workspace.pk])

    admin_html = cast.admin_client.get(page).content.decode()
    member_html = cast.member_client.get(page).content.decode()

    assert '<h2 id="inbox-app-heading">Inbox app</h2>' in admin_html
    assert 'name="assign_answer_to_sender" checked' in admin_html
    assert "assign_answer_to_sender" not in member_html
    assert "is assigned to the teammate who sent it" in member_html


def preview(whatsapp):
    first = initialize()
    compose = click(click(first, "this_contact"), f"channel-{whatsapp.pk}")
    return click(compose, "preview", {"text": "Your order has shipped."})


def test_send_and_open_assigns_the_new_conversation_to_the_sender(
    mocked, workspace, whatsapp, jane_on_whatsapp
):
    InboxAppSettings.objects.create(workspace=workspace, assign_answer_to_sender=True)
    wrote(jane_on_whatsapp, hours_ago=1)
    mocked.post(
        f"{settings.INTERCOM_API_URL}/messages",
        json={"type": "admin_message", "id": "2001", "conversation_id": "8001"},
    )
    mocked.post(
        f"{settings.INTERCOM_API_URL}/conversations/8001/parts",
        json={"type": "conversation", "id": "8001", "admin_assignee_id": 991},
    )

    status = click(preview(whatsapp), "send_open")

    (assignment,) = [c for c in mocked.calls if c.request.url.endswith("/8001/parts")]
    assert json.loads(assignment.request.body) == {
        "message_type": "assignment",
        "type": "admin",
        "admin_id": "991",
        "assignee_id": "991",
    }
    assert "The conversation is assigned to you" in words(status)


def test_send_assigns_the_customers_open_conversation(
    mocked, workspace, whatsapp, jane_on_whatsapp
):
    InboxAppSettings.objects.create(workspace=workspace, assign_answer_to_sender=True)
    wrote(jane_on_whatsapp, hours_ago=1)
    Conversation.objects.create(
        workspace=workspace, contact=jane_on_whatsapp, inbox_conversation_id="499"
    )
    mocked.post(
        f"{settings.INTERCOM_API_URL}/conversations/499/parts",
        status=403,
        json={"type": "error.list", "errors": [{"code": "forbidden", "message": "Nope"}]},
    )

    status = click(preview(whatsapp), "send")

    assert mocked.calls[0].request.url.endswith("/conversations/499/parts")
    assert "could not be assigned to you: Intercom answered 403" in words(status)


def test_nothing_is_assigned_when_the_setting_is_off(mocked, workspace, whatsapp, jane_on_whatsapp):
    wrote(jane_on_whatsapp, hours_ago=1)
    Conversation.objects.create(
        workspace=workspace, contact=jane_on_whatsapp, inbox_conversation_id="499"
    )

    status = click(preview(whatsapp), "send")

    assert len(mocked.calls) == 0
    assert "assigned" not in words(status)
