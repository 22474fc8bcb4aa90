"""Role checks on every view of ours, with the shared cast.

Each of our URL patterns must be listed in VIEWS, so a new view cannot ship without
saying who may use it; the tests then check anonymous visitors are sent to sign in,
members get a readable 403 on admin-only views, and another account's objects are 404.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import Invitation, Membership, Role
from channels.models import Channel, Contact, Message, MessageTemplate
from workspaces.models import Workspace

pytestmark = pytest.mark.django_db

# url name -> (method, who may use it: "member" or "admin", object kind or None)
VIEWS = {
    "workspaces:index": ("get", "member", None),
    "workspaces:detail": ("get", "member", "workspace"),
    "workspaces:remove": ("post", "admin", "workspace"),
    "workspaces:contact_match": ("post", "admin", "workspace"),
    "integrations:connect": ("post", "admin", "provider"),
    "integrations:disconnect": ("post", "admin", "workspace"),
    "integrations:check": ("post", "admin", "workspace"),
    "accounts:team": ("get", "member", None),
    "accounts:invite": ("post", "admin", None),
    "accounts:invitation_cancel": ("post", "admin", "invitation"),
    "accounts:member_role": ("post", "admin", "membership"),
    "accounts:member_remove": ("post", "admin", "membership"),
    "accounts:switch": ("post", "member", None),
    "channels:add_kind": ("get", "admin", "workspace"),
    "channels:add": ("post", "admin", "workspace_kind"),
    "channels:detail": ("get", "member", "channel"),
    "channels:remove": ("post", "admin", "channel"),
    "channels:round_trip": ("post", "admin", "channel"),
    "channels:templates_sync": ("post", "admin", "channel"),
    "channels:message_retry": ("post", "admin", "channel_message"),
    "channels:settings": ("get", "member", "channel"),
    "channels:settings_welcome": ("post", "admin", "channel"),
    "channels:settings_conversations": ("post", "admin", "channel"),
    "channels:settings_away": ("post", "admin", "channel"),
    "channels:settings_signature": ("post", "admin", "channel"),
    "channels:template_add": ("post", "admin", "channel"),
    "channels:template_edit": ("post", "admin", "template"),
    "channels:template_delete": ("post", "admin", "template"),
}
# Reachable without signing in, on purpose: guarded by a token, the OAuth state or a
# provider's signature instead (each has its own tests).
PUBLIC = {
    "accounts:invitation",
    "integrations:callback",
    "integrations:intercom_uninstall",
    "channels:webhook",
    "channels:intercom_webhook",
    "channels:hubspot_webhook",
    "channels:media",  # a signed, expiring link the inbox fetches
}


def our_url_names():
    names = set()
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace in {
            "accounts",
            "workspaces",
            "integrations",
            "channels",
        }:
            for pattern in entry.url_patterns:
                assert isinstance(pattern, URLPattern)
                names.add(f"{entry.namespace}:{pattern.name}")
    return names


def test_every_view_is_listed():
    assert our_url_names() == set(VIEWS) | PUBLIC


def objects_of(account, cast):
    invitation = Invitation.objects.create(
        account=account,
        email="x@x.test",
        role=Role.MEMBER,
        token_hash=str(account.pk) * 8,
        expires_at="2999-01-01T00:00Z",
    )
    workspace = Workspace.objects.for_account(account).first() or Workspace.objects.create(
        account=account, provider="intercom", external_id=f"w{account.pk}", name="W"
    )
    channel = Channel.objects.create(
        workspace=workspace, kind="telegram", name="Bot", identity=f"bot{account.pk}"
    )
    template = MessageTemplate.objects.create(
        channel=channel, name="Hello", language="en", body="Hello {{1}}"
    )
    message = Message.objects.create(
        channel=channel,
        contact=Contact.objects.create(channel=channel, external_id="c1"),
        direction="out",
        type="text",
        status="failed",
    )
    return {
        "workspace": workspace,
        "channel": channel,
        "template": template,
        "message": message,
        "invitation": invitation,
        "membership": Membership.objects.filter(account=account).first(),
    }


def url_for(name, kind, objects):
    if kind is None:
        return reverse(name)
    if kind == "provider":
        return reverse(name, args=["intercom"])
    if kind == "channel_message":
        return reverse(name, args=[objects["channel"].pk, objects["message"].pk])
    if kind == "workspace_kind":
        return reverse(name, args=[objects["workspace"].pk, "telegram"])
    if kind == "template":
        return reverse(name, args=[objects["template"].channel_id, objects["template"].pk])
    return reverse(name, args=[objects[kind].pk])


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_anonymous_visitors_are_sent_to_sign_in(client, cast, name):
    method, _, kind = VIEWS[name]
    response = getattr(client, method)(url_for(name, kind, objects_of(cast.account, cast)))
    assert response.status_code == 302
    assert response["Location"].startswith("/auth/login/")


@pytest.mark.parametrize("name", sorted(n for n, v in VIEWS.items() if v[1] == "admin"))
def test_members_get_a_readable_403_on_admin_views(cast, name):
    method, _, kind = VIEWS[name]
    response = getattr(cast.member_client, method)(
        url_for(name, kind, objects_of(cast.account, cast))
    )
    assert response.status_code == 403
    assert "Only admins can do this" in response.content.decode()


@pytest.mark.parametrize(
    "name", sorted(n for n, v in VIEWS.items() if v[2] not in (None, "provider"))
)
def test_another_accounts_object_is_a_404(cast, name):
    method, _, kind = VIEWS[name]
    theirs = objects_of(cast.other_account, cast)
    before = (
        sorted(Workspace.objects.values_list("pk", "contact_match")),
        sorted(Channel.objects.values_list("pk", "name", "updated_at")),
        Invitation.objects.count(),
        sorted(Membership.objects.values_list("pk", "role")),
        sorted(MessageTemplate.objects.values_list("pk", "name", "updated_at")),
        sorted(Message.objects.values_list("pk", "status", "updated_at")),
    )
    response = getattr(cast.admin_client, method)(url_for(name, kind, theirs), {"role": "member"})
    assert response.status_code == 404
    after = (
        sorted(Workspace.objects.values_list("pk", "contact_match")),
        sorted(Channel.objects.values_list("pk", "name", "updated_at")),
        Invitation.objects.count(),
        sorted(Membership.objects.values_list("pk", "role")),
        sorted(MessageTemplate.objects.values_list("pk", "name", "updated_at")),
        sorted(Message.objects.values_list("pk", "status", "updated_at")),
    )
    assert after == before
