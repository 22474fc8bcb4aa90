from django.urls import path, re_path

from . import graph, hubspot, intercom, phone, telegram, twilio, views

app_name = "sandbox"

TWILIO_ACCOUNT = "twilio/2010-04-01/Accounts/<str:account_sid>"

urlpatterns = [
    path("", views.index, name="index"),
    # Intercom: INTERCOM_AUTHORIZE_URL = {base}/sandbox/intercom/oauth,
    # INTERCOM_API_URL = {base}/sandbox/intercom/api.
    path("intercom/oauth", intercom.authorize, name="intercom_authorize"),
    path("intercom/api/auth/eagle/token", intercom.token, name="intercom_token"),
    path("intercom/api/me", intercom.me, name="intercom_me"),
    path("intercom/api/admins", intercom.admins, name="intercom_admins"),
    path("intercom/uninstall", intercom.uninstall, name="intercom_uninstall"),
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
    # Telegram: TELEGRAM_API_URL = {base}/sandbox/telegram.
    re_path(
        r"^telegram/file/bot(?P<token>[^/]+)/(?P<file_path>.+)$",
        telegram.file,
        name="telegram_file",
    ),
    re_path(
        r"^telegram/bot(?P<token>[^/]+)/(?P<name>[A-Za-z]+)/?$",
        telegram.method,
        name="telegram_method",
    ),
    # Meta Graph: META_GRAPH_API_URL = {base}/sandbox/graph/v25.0 (any version works).
    path(
        "graph/whatsapp_business/attachments/",
        graph.whatsapp_media_download,
        name="whatsapp_media_download",
    ),
    path("graph/fbcdn/<str:ref>.jpg", graph.messenger_attachment, name="messenger_attachment"),
    re_path(
        r"^graph/(?P<version>v[0-9]+\.[0-9]+)/(?P<node_id>[A-Za-z0-9_.-]+)/?$",
        graph.node,
        name="graph_node",
    ),
    re_path(
        r"^graph/(?P<version>v[0-9]+\.[0-9]+)/(?P<node_id>[A-Za-z0-9_.-]+)/(?P<edge_name>[a-z_]+)/?$",
        graph.edge,
        name="graph_edge",
    ),
    # Twilio: TWILIO_API_URL = {base}/sandbox/twilio.
    path(
        f"{TWILIO_ACCOUNT}/IncomingPhoneNumbers.json",
        twilio.incoming_phone_numbers,
        name="twilio_incoming_phone_numbers",
    ),
    path(
        f"{TWILIO_ACCOUNT}/IncomingPhoneNumbers/<str:sid>.json",
        twilio.incoming_phone_number,
        name="twilio_incoming_phone_number",
    ),
    path(f"{TWILIO_ACCOUNT}/Messages.json", twilio.messages, name="twilio_messages"),
    path(f"{TWILIO_ACCOUNT}/Messages/<str:sid>.json", twilio.message, name="twilio_message"),
    path(
        f"{TWILIO_ACCOUNT}/Messages/<str:message_sid>/Media/<str:media_sid>",
        twilio.message_media,
        name="twilio_media",
    ),
    # What a person uses: the customer phone and the Meta app dashboard.
    path("phone/", phone.phone, name="phone"),
    path("phone/<int:pk>/", phone.conversation, name="phone_conversation"),
    path("phone/<int:pk>/send", phone.send, name="phone_send"),
    path("phone/<int:pk>/receipts", phone.receipts, name="phone_receipts"),
    path("phone/<int:pk>/later", phone.later, name="phone_later"),
    path("meta/app/", phone.meta_dashboard, name="meta_dashboard"),
]
