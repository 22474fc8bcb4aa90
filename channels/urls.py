from django.urls import path

from . import settings_views, views

app_name = "channels"

urlpatterns = [
    path("hooks/intercom/", views.inbox_webhook, {"provider": "intercom"}, name="intercom_webhook"),
    path("hooks/hubspot/", views.inbox_webhook, {"provider": "hubspot"}, name="hubspot_webhook"),
    # Webhook keys are URL-safe base64 (secrets.token_urlsafe): anything else is no key.
    path("hooks/<slug:kind>/<slug:key>/", views.webhook, name="webhook"),
    # A customer's file. Its link ends with the file's name, which the inbox reads; links
    # handed out without one stay good for their 30 days.
    path("media/<str:token>/", views.media, name="media"),
    path("media/<str:token>/<str:filename>", views.media, name="media"),
    path("workspaces/<int:pk>/channels/add/", views.add_kind, name="add_kind"),
    path("workspaces/<int:pk>/channels/add/<str:kind>/", views.add, name="add"),
    path("channels/<int:pk>/", views.detail, name="detail"),
    path("channels/<int:pk>/remove/", views.remove, name="remove"),
    path("channels/<int:pk>/round-trip/", views.round_trip, name="round_trip"),
    path("channels/<int:pk>/templates/sync/", views.templates_sync, name="templates_sync"),
    path(
        "channels/<int:pk>/messages/<int:message_pk>/retry/",
        views.message_retry,
        name="message_retry",
    ),
    path("channels/<int:pk>/settings/", settings_views.settings_page, name="settings"),
    path(
        "channels/<int:pk>/settings/welcome/",
        settings_views.settings_welcome,
        name="settings_welcome",
    ),
    path(
        "channels/<int:pk>/settings/conversations/",
        settings_views.settings_conversations,
        name="settings_conversations",
    ),
    path("channels/<int:pk>/settings/away/", settings_views.settings_away, name="settings_away"),
    path(
        "channels/<int:pk>/settings/signature/",
        settings_views.settings_signature,
        name="settings_signature",
    ),
    path("channels/<int:pk>/templates/add/", settings_views.template_add, name="template_add"),
    path(
        "channels/<int:pk>/templates/<int:template_pk>/",
        settings_views.template_edit,
        name="template_edit",
    ),
    path(
        "channels/<int:pk>/templates/<int:template_pk>/delete/",
        settings_views.template_delete_view,
        name="template_delete",
    ),
]
