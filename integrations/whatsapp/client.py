"""HTTP to the WhatsApp Cloud API (Meta Graph), and nothing else (PROVIDERS.md §3)."""

from functools import partial

from ..base import ProviderError
from ..meta import graph_error, graph_request, graph_session, require_success

# What a System User token needs to read and configure a number and send from it.
REQUIRED_PERMISSIONS = ("whatsapp_business_messaging", "whatsapp_business_management")
# Graph's answer when the callback URL failed its GET handshake.
_CALLBACK_VERIFICATION_FAILED = 2200
# The WABA may own more numbers than one page holds; this bounds a misbehaving cursor.
_MAX_PAGES = 20


def describe_error(response, *, id_field: str = "", id_label: str = "") -> ProviderError:
    """Graph's error body → ProviderError worded for a WhatsApp admin.

    ``id_field`` names the form field whose id the call was about (``phone_number_id``
    or ``waba_id``), blamed when Graph says the object does not exist.
    """
    error = graph_error(response)
    if error.token_rejected:
        return error.provider_error(
            "Meta did not accept this access token: it is invalid, expired or revoked. "
            "Create a System User token that does not expire (Business settings → System "
            "users → Generate new token) and paste it here.",
            field="access_token",
        )
    if error.permission_missing:
        missing = " and ".join(error.permissions_named() or REQUIRED_PERMISSIONS)
        return error.provider_error(
            f"This access token lacks a permission Meta requires ({missing}). Generate "
            "the System User token again with whatsapp_business_messaging and "
            "whatsapp_business_management, and give the System User this WhatsApp "
            "account as an asset.",
            field="access_token",
        )
    if error.object_missing and id_field:
        return error.provider_error(
            f"Meta found no {id_label} with this ID that this access token can see. Check "
            "the ID in WhatsApp Manager, and that the System User has this WhatsApp "
            "account as an asset.",
            field=id_field,
        )
    if error.code == _CALLBACK_VERIFICATION_FAILED or "callback verification" in (
        error.message.lower()
    ):
        return error.provider_error(
            "Meta could not verify our webhook address: it must be a public HTTPS address "
            "that answers Meta's check, so PUBLIC_BASE_URL must be one. "
            f"Meta said: {error.message}"
        )
    return error.provider_error()


_about_number = partial(describe_error, id_field="phone_number_id", id_label="phone number")
_about_waba = partial(describe_error, id_field="waba_id", id_label="WhatsApp Business Account")


class WhatsAppClient:
    """Graph as one System User token (Bearer), for one business number and its WABA."""

    def __init__(self, access_token: str):
        self.session = graph_session(access_token)

    def phone_number(self, phone_number_id: str) -> dict:
        """``id``, ``display_phone_number`` and ``verified_name`` of a business number."""
        return graph_request(
            self.session,
            "GET",
            f"/{phone_number_id}",
            params={"fields": "display_phone_number,verified_name"},
            describe=_about_number,
        )

    def waba_phone_number_ids(self, waba_id: str) -> set[str]:
        """The ids of every number of the WhatsApp Business Account."""
        ids: set[str] = set()
        params: dict = {"fields": "id"}
        for _ in range(_MAX_PAGES):
            body = graph_request(
                self.session,
                "GET",
                f"/{waba_id}/phone_numbers",
                params=params,
                describe=_about_waba,
            )
            ids.update(str(number["id"]) for number in body.get("data") or [])
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                break
            params = {"fields": "id", "after": after}
        return ids

    def subscribe_app(self, waba_id: str) -> None:
        """Subscribe our app to the WABA's webhooks (Meta's prerequisite for overrides)."""
        body = graph_request(
            self.session, "POST", f"/{waba_id}/subscribed_apps", describe=_about_waba
        )
        require_success(body, action="subscribe this app to the WhatsApp Business Account")

    def set_webhook_override(
        self, phone_number_id: str, *, callback_url: str, verify_token: str
    ) -> None:
        # Meta's "webhook overrides" (developers.facebook.com/documentation/business-
        # messaging/whatsapp/webhooks/override): a number's alternate callback wins over
        # its WABA's and over the app's, so each number reaches its own channel URL even
        # when the WABA's other numbers are connected elsewhere. Meta runs its GET
        # handshake against the URL during this call, with this verify token.
        body = graph_request(
            self.session,
            "POST",
            f"/{phone_number_id}",
            json={
                "webhook_configuration": {
                    "override_callback_uri": callback_url,
                    "verify_token": verify_token,
                }
            },
            describe=_about_number,
        )
        require_success(body, action="send this number's messages to Octopods")
