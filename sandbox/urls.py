from importlib import import_module

from django.urls import path, re_path

from . import (
    hubspot,
    hubspot_channels,
    hubspot_inbox_page,
    intercom,
    intercom_inbox,
    intercom_inbox_app,
    intercom_inbox_page,
    phone,
    views,
)
from .kinds import provider_packages

app_name = "sandbox"

INTERCOM_API = "intercom/api"
INTERCOM_CONVERSATION = f"{INTERCOM_API}/conversations/<str:conversation_id>"
INBOX_CONVERSATION = "intercom/inbox/<str:id_code>/<int:pk>"
INBOX_CONTACT = "intercom/inbox/<str:id_code>/contacts/<str:contact_id>"
HUBSPOT_THREAD = "hubspot/inbox/<int:hub_id>/<int:pk>"


def hubspot_api_paths() -> list:
    """HubSpot's v3 paths, and their dated 2026-03 equivalents (PROVIDERS.md §2.2) on the
    same views; only the v3 ones are named. Trailing slashes are optional, as the spec
    writes the channel list both ways."""
    api = r"^hubspot/api/conversations"
    patterns = []
    for suffix, channels, inboxes in (
        ("", "v3/custom-channels", "v3/conversations/inboxes"),
        ("_dated", "custom-channels/2026-03", "conversations/2026-03/inboxes"),
    ):
        channel = rf"{api}/{channels}/(?P<channel_id>[^/]+)"
        routes = [
            (rf"{api}/{channels}/?$", hubspot_channels.channels, "hubspot_channels"),
            (rf"{channel}/?$", hubspot_channels.channel, "hubspot_channel"),
            (
                rf"{channel}/channel-accounts/?$",
                hubspot_channels.channel_accounts,
                "hubspot_channel_accounts",
            ),
            (
                rf"{channel}/channel-accounts/(?P<account_id>[^/]+)/?$",
                hubspot_channels.channel_account,
                "hubspot_channel_account",
            ),
            (rf"{channel}/messages/?$", hubspot_channels.messages, "hubspot_messages"),
            (
                rf"{channel}/messages/(?P<message_id>[^/]+)/?$",
                hubspot_channels.message,
                "hubspot_message",
            ),
            (rf"{api}/{inboxes}/?$", hubspot_channels.inboxes, "hubspot_inboxes"),
        ]
        patterns += [re_path(regex, view, name=name + suffix) for regex, view, name in routes]
    return patterns


urlpatterns = [
    path("", views.index, name="index"),
    # Intercom: INTERCOM_AUTHORIZE_URL = {base}/sandbox/intercom/oauth,
    # INTERCOM_API_URL = {base}/sandbox/intercom/api.
    path("intercom/oauth", intercom.authorize, name="intercom_authorize"),
    path("intercom/api/auth/eagle/token", intercom.token, name="intercom_token"),
    path("intercom/api/me", intercom.me, name="intercom_me"),
    path("intercom/api/admins", intercom.admins, name="intercom_admins"),
    path("intercom/uninstall", intercom.uninstall, name="intercom_uninstall"),
    # Intercom's inbox API (contacts, conversations, tags), and the faults control.
    path(f"{INTERCOM_API}/contacts", intercom_inbox.contacts, name="intercom_contacts"),
    path(
        f"{INTERCOM_API}/contacts/search",
        intercom_inbox.contacts_search,
        name="intercom_contacts_search",
    ),
    path(
        f"{INTERCOM_API}/contacts/find_by_external_id/<path:external_id>",
        intercom_inbox.contact_by_external_id,
        name="intercom_contact_by_external_id",
    ),
    path(
        f"{INTERCOM_API}/contacts/<str:contact_id>",
        intercom_inbox.contact,
        name="intercom_contact",
    ),
    path(
        f"{INTERCOM_API}/contacts/<str:contact_id>/unarchive",
        intercom_inbox.contact_unarchive,
        name="intercom_contact_unarchive",
    ),
    path(
        f"{INTERCOM_API}/conversations",
        intercom_inbox.conversations,
        name="intercom_conversations",
    ),
    path(
        f"{INTERCOM_API}/conversations/search",
        intercom_inbox.conversations_search,
        name="intercom_conversations_search",
    ),
    path(f"{INTERCOM_API}/messages", intercom_inbox.admin_messages, name="intercom_messages"),
    path(INTERCOM_CONVERSATION, intercom_inbox.conversation, name="intercom_conversation"),
    path(
        f"{INTERCOM_CONVERSATION}/reply",
        intercom_inbox.reply,
        name="intercom_conversation_reply",
    ),
    path(
        f"{INTERCOM_CONVERSATION}/parts",
        intercom_inbox.parts,
        name="intercom_conversation_parts",
    ),
    path(
        f"{INTERCOM_CONVERSATION}/tags",
        intercom_inbox.conversation_tags,
        name="intercom_conversation_tags",
    ),
    path(f"{INTERCOM_API}/tags", intercom_inbox.tags, name="intercom_tags"),
    path("intercom/faults", intercom_inbox.faults, name="intercom_faults"),
    # The inbox a person answers in, as an admin of a fake workspace.
    path("intercom/inbox/", intercom_inbox_page.inbox, name="intercom_inbox"),
    path(
        "intercom/inbox/<str:id_code>/",
        intercom_inbox_page.workspace_inbox,
        name="intercom_inbox_workspace",
    ),
    path(
        f"{INBOX_CONVERSATION}/",
        intercom_inbox_page.conversation,
        name="intercom_inbox_conversation",
    ),
    path(f"{INBOX_CONVERSATION}/act", intercom_inbox_page.act, name="intercom_inbox_act"),
    path(f"{INBOX_CONVERSATION}/app", intercom_inbox_app.app, name="intercom_inbox_app"),
    path(f"{INBOX_CONTACT}/", intercom_inbox_page.contact, name="intercom_inbox_contact"),
    path(f"{INBOX_CONTACT}/app", intercom_inbox_app.contact_app, name="intercom_inbox_contact_app"),
    path(
        f"{INBOX_CONVERSATION}/parts/<int:part_pk>/redeliver",
        intercom_inbox_page.redeliver,
        name="intercom_inbox_redeliver",
    ),
    # HubSpot: HUBSPOT_AUTHORIZE_URL = {base}/sandbox/hubspot/oauth/authorize,
    # HUBSPOT_API_URL = {base}/sandbox/hubspot/api.
    path("hubspot/oauth/authorize", hubspot.authorize, name="hubspot_authorize"),
    path("hubspot/api/oauth/v1/token", hubspot.token, name="hubspot_token"),
    path(
        "hubspot/api/oauth/v1/access-tokens/<str:token>",
        hubspot.access_token_info,
        name="hubspot_access_token",
    ),
    path(
        "hubspot/api/oauth/v1/refresh-tokens/<str:token>",
        hubspot.delete_refresh_token,
        name="hubspot_refresh_token",
    ),
    # HubSpot's custom channels, the app's uninstall, and the faults control.
    *hubspot_api_paths(),
    path(
        "hubspot/api/appinstalls/v3/external-install",
        hubspot_channels.external_install,
        name="hubspot_external_install",
    ),
    path("hubspot/api/appinstalls/2026-03/external-install", hubspot_channels.external_install),
    path("hubspot/faults", hubspot_channels.faults, name="hubspot_faults"),
    # The inbox a person answers in, as an agent of a fake portal.
    path("hubspot/inbox/", hubspot_inbox_page.inbox, name="hubspot_inbox"),
    path(
        "hubspot/inbox/<int:hub_id>/",
        hubspot_inbox_page.portal_inbox,
        name="hubspot_inbox_portal",
    ),
    path(f"{HUBSPOT_THREAD}/", hubspot_inbox_page.thread, name="hubspot_inbox_thread"),
    path(f"{HUBSPOT_THREAD}/reply", hubspot_inbox_page.reply, name="hubspot_inbox_reply"),
    path(
        f"{HUBSPOT_THREAD}/messages/<int:message_pk>/redeliver",
        hubspot_inbox_page.redeliver,
        name="hubspot_inbox_redeliver",
    ),
    # What a person uses: the customer phone.
    path("phone/", phone.phone, name="phone"),
    path("phone/<int:pk>/", phone.conversation, name="phone_conversation"),
    path("phone/<int:pk>/send", phone.send, name="phone_send"),
    path("phone/<int:pk>/receipts", phone.receipts, name="phone_receipts"),
    path("phone/<int:pk>/edit", phone.edit, name="phone_edit"),
    path("phone/<int:pk>/tap", phone.tap, name="phone_tap"),
    path("phone/<int:pk>/later", phone.later, name="phone_later"),
    # Each channel provider's stand-in (its API, and pages of its own), as its package
    # mounts it: sandbox/telegram/urls.py, sandbox/meta/urls.py, sandbox/twilio/urls.py.
    *(
        pattern
        for package in provider_packages()
        for pattern in import_module(f"{package}.urls").urlpatterns
    ),
]
