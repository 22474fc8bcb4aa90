from django.urls import path

from . import hubspot, intercom, views

app_name = "sandbox"

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
]
