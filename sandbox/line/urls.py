"""LINE's Messaging API: LINE_API_URL = {base}/sandbox/line and LINE_DATA_API_URL =
{base}/sandbox/line/data; the phone's LINE-only actions under /sandbox/line/phone/."""

from django.urls import path

from . import api, phone

urlpatterns = [
    path("line/v2/bot/info", api.bot_info, name="line_bot_info"),
    path(
        "line/v2/bot/channel/webhook/endpoint",
        api.webhook_endpoint,
        name="line_webhook_endpoint",
    ),
    path("line/v2/bot/channel/webhook/test", api.webhook_test, name="line_webhook_test"),
    path("line/v2/bot/message/push", api.push, name="line_push"),
    path("line/v2/bot/message/quota", api.quota, name="line_quota"),
    path(
        "line/v2/bot/message/quota/consumption",
        api.quota_consumption,
        name="line_quota_consumption",
    ),
    path(
        "line/data/v2/bot/message/<str:message_id>/content",
        api.content,
        name="line_content",
    ),
    path("line/phone/", phone.chats, name="line_phone"),
    path("line/phone/<int:pk>/", phone.actions, name="line_phone_actions"),
]
