"""HTTP to the WhatsApp Cloud API (Meta Graph), and nothing else (PROVIDERS.md §3)."""

import re
from functools import partial

from django.conf import settings

from ..base import ProviderError
from ..media import Download, download, host_matches
from ..meta import (
    GRAPH_LABEL,
    graph_error,
    graph_error_detail,
    graph_request,
    graph_session,
    require_success,
)

# What a System User token needs to read and configure a number and send from it.
REQUIRED_PERMISSIONS = ("whatsapp_business_messaging", "whatsapp_business_management")
# Graph's answer when the callback URL failed its GET handshake.
_CALLBACK_VERIFICATION_FAILED = 2200
# The WABA may own more numbers than one page holds; this bounds a misbehaving cursor.
_MAX_PAGES = 20
# Templates: Meta allows a WABA up to 6000 (250 unverified); 100 a page, so 60 pages
# hold them all and a cursor that never ends stops there.
TEMPLATES_PAGE_SIZE = 100
TEMPLATES_MAX_PAGES = 60
# One page's body: a hundred templates of Meta's size fit in well under this.
TEMPLATES_PAGE_MAX_BYTES = 4 * 1024 * 1024
_TEMPLATE_FIELDS = "id,name,language,status,category,parameter_format,components,rejected_reason"


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


# --- the message path (PROVIDERS.md §3.5-3.8) -------------------------------------------------

# Where WhatsApp serves customers' files (the URL GET /{media-id} answers with).
MEDIA_HOSTS = ("lookaside.fbsbx.com",)
# A media id is a Graph node id: it goes into the URL path, so nothing else is accepted.
_MEDIA_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")

_RECONNECT = (
    "WhatsApp did not accept the channel's access token: it is invalid, expired or was "
    "revoked. Reconnect the channel in Octopods with a new System User token that does "
    "not expire."
)
_MEDIA_PROBLEM = (
    "WhatsApp could not use the attached file{said}. It takes JPEG or PNG images up to "
    "5 MB, MP4 or 3GP videos and AAC, MP3, M4A, AMR or OGG audio up to 16 MB, and "
    "documents up to 100 MB; send the file in one of those forms."
)
# Template refusals (codes and meanings: Meta's "WhatsApp error codes" page; pywa
# ``pywa/errors.py`` TemplateParamCountMismatch … TemplateDisabled), worded for the agent
# who picked the template and filled its variables.
_RESYNC = " If it was changed in WhatsApp Manager, use Sync now on the channel's page."
_TEMPLATE_VALUE_ERRORS = {
    131008: "WhatsApp needs a value for every variable of this template, and one was "
    "missing{said}. Fill in each variable and send again.",
    131009: "WhatsApp did not accept one of the values{said}. A text value cannot hold a new "
    "line, a tab or more than four spaces in a row, and a header image, video or document "
    "must be a public https link.",
}
# Codes only a template send gets, so worded for it whatever was sent.
_TEMPLATE_ERRORS = {
    132000: "The template has a different number of variables than were filled in{said}." + _RESYNC,
    132001: "WhatsApp has no approved template of this name in this language{said}: it may "
    "have been deleted, renamed or not approved yet." + _RESYNC,
    132005: "With these values the template's text is longer than WhatsApp allows{said}. "
    "Use shorter values.",
    132007: "WhatsApp refused the template's content under its policies{said}. Choose "
    "another template.",
    132012: "The values are not in the form this template expects{said} (numbered or named "
    "variables, or the header's kind)." + _RESYNC,
    132015: "WhatsApp has paused this template because customers reacted badly to it{said}. "
    "Choose another template, or edit it in WhatsApp Manager.",
    132016: "WhatsApp has disabled this template for good after it was paused too often"
    "{said}. Choose another template.",
}
# Codes after which the same message can never go out as it is, worded for the agent.
_MESSAGE_ERRORS = {
    131047: "WhatsApp only delivers free-form replies within 24 hours of the customer's "
    "last message. Send a template from the Octopods panel in this conversation's details.",
    131026: "WhatsApp could not deliver this message to the customer's number{said}: it "
    "may not be on WhatsApp, or may be on an old version of the app. Reach the customer "
    "another way.",
    131030: "This WhatsApp number is a test number, and the customer is not on its list of "
    "allowed recipients. Add their number in Meta's app dashboard (WhatsApp → API Setup), "
    "or connect a production number.",
    131051: "WhatsApp does not support this kind of message{said}.",
    131052: _MEDIA_PROBLEM,
    131053: _MEDIA_PROBLEM,
    131031: "WhatsApp has locked the business account of this number{said}. Check the "
    "account's status in WhatsApp Manager.",
    368: "WhatsApp has temporarily blocked this number from sending for violating its "
    "policies{said}. Check the number's status in WhatsApp Manager.",
    **_TEMPLATE_ERRORS,
}


def describe_message_error(response) -> ProviderError:
    """Graph's error body on a send or a media download → ProviderError worded for the
    agent who reads it as a note in the inbox: what failed and what to do."""
    error = graph_error(response)
    detail = graph_error_detail(response)
    said = f" ({detail.details or error.message})" if (detail.details or error.message) else ""
    if error.token_rejected:
        return error.provider_error(_RECONNECT)
    if error.code in _MESSAGE_ERRORS:
        return ProviderError(
            _MESSAGE_ERRORS[error.code].format(said=said),
            permanent=True,
            status=error.status,
            code=str(error.code),
        )
    if error.permission_missing:
        return error.provider_error(
            "The channel's access token may no longer send WhatsApp messages (it lacks "
            "whatsapp_business_messaging). Reconnect the channel in Octopods with a System "
            "User token that has it."
        )
    if error.transient and error.status < 500:
        return error.provider_error(
            f"WhatsApp asked us to send more slowly{said}; Octopods tries again shortly."
        )
    if error.status >= 500:
        return error.provider_error(
            f"WhatsApp could not be reached (HTTP {error.status}); Octopods tries again shortly."
        )
    return error.provider_error(f"WhatsApp refused the message{said}.")


def describe_template_error(response) -> ProviderError:
    """As ``describe_message_error``, for a template send: a missing or refused value
    (131008, 131009) is then one of the template's variables."""
    error = graph_error(response)
    if error.code in _TEMPLATE_VALUE_ERRORS:
        details = graph_error_detail(response).details or error.message
        return ProviderError(
            _TEMPLATE_VALUE_ERRORS[error.code].format(said=f" ({details})" if details else ""),
            permanent=True,
            status=error.status,
            code=str(error.code),
        )
    return describe_message_error(response)


def _describe_media_lookup_error(response) -> ProviderError:
    error = graph_error(response)
    if error.object_missing:
        return error.provider_error(
            "WhatsApp no longer has the customer's file: it keeps files for 7 days after "
            "they are sent. Ask the customer to send it again."
        )
    return describe_message_error(response)


def _describe_download_error(response) -> ProviderError:
    # The download URL lives about five minutes; a fresh lookup gives a new one.
    if response.status_code in (403, 404, 410):
        return ProviderError(
            "WhatsApp's link to the customer's file expired before it was downloaded; "
            "Octopods tries again.",
            permanent=False,
            status=response.status_code,
        )
    return describe_message_error(response)


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

    def message_templates(self, waba_id: str) -> tuple[list, bool]:
        """Every template of the WABA as Meta lists it (``GET /{waba-id}/message_templates``,
        paged by ``paging.cursors.after`` while ``paging.next`` is there), and whether
        the listing is complete: False when the pages ran past TEMPLATES_MAX_PAGES, so
        the caller does not take a template on a later page for deleted."""
        found: list = []
        params: dict = {"fields": _TEMPLATE_FIELDS, "limit": TEMPLATES_PAGE_SIZE}
        for _ in range(TEMPLATES_MAX_PAGES):
            body = graph_request(
                self.session,
                "GET",
                f"/{waba_id}/message_templates",
                params=params,
                describe=_about_waba,
                max_bytes=TEMPLATES_PAGE_MAX_BYTES,
            )
            data = body.get("data")
            if not isinstance(data, list):
                raise ProviderError(
                    f"{GRAPH_LABEL} sent a template list we could not read", permanent=False
                )
            found.extend(data)
            paging = body.get("paging") if isinstance(body.get("paging"), dict) else {}
            cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
            after = cursors.get("after")
            if not paging.get("next") or not isinstance(after, str) or not after:
                return found, True
            params = {**params, "after": after}
        return found, False

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

    def webhook_override(self, phone_number_id: str) -> str:
        """The number's own alternate callback URL, "" when it has none. Meta answers
        ``webhook_configuration`` with the URL each level would use (``phone_number``,
        ``whatsapp_business_account``, ``application``); only the first is the number's."""
        body = graph_request(
            self.session,
            "GET",
            f"/{phone_number_id}",
            params={"fields": "webhook_configuration"},
            describe=_about_number,
        )
        configuration = body.get("webhook_configuration") or {}
        if not isinstance(configuration, dict):
            raise ProviderError("Meta sent an answer we could not read", permanent=False)
        url = configuration.get("phone_number") or ""
        if not isinstance(url, str):
            raise ProviderError("Meta sent an answer we could not read", permanent=False)
        return url

    def remove_webhook_override(self, phone_number_id: str) -> None:
        # "Delete phone number alternate callback" on the same override page: an empty
        # override_callback_uri, and the number falls back to its WABA's or the app's URL.
        body = graph_request(
            self.session,
            "POST",
            f"/{phone_number_id}",
            json={"webhook_configuration": {"override_callback_uri": ""}},
            describe=_about_number,
        )
        require_success(body, action="stop sending this number's messages to Octopods")

    def send_message(self, phone_number_id: str, payload: dict) -> str:
        """Send one message (``to``, ``type`` and its content) from the number; the
        answer's ``messages[0].id`` (wamid) is returned."""
        template = payload.get("type") == "template"
        body = graph_request(
            self.session,
            "POST",
            f"/{phone_number_id}/messages",
            json={"messaging_product": "whatsapp", "recipient_type": "individual", **payload},
            describe=describe_template_error if template else describe_message_error,
        )
        messages = body.get("messages")
        message_id = messages[0].get("id") if isinstance(messages, list) and messages else None
        if not isinstance(message_id, str) or not message_id:
            raise ProviderError(f"{GRAPH_LABEL} sent an answer we could not read", permanent=False)
        return message_id

    def media(self, media_id: str) -> dict:
        """Step 1 of a download: ``url`` (valid for minutes), ``mime_type``,
        ``file_size`` (a string) of a customer's file."""
        if not _MEDIA_ID.fullmatch(media_id):
            raise ProviderError(
                "The customer's file could not be fetched: WhatsApp gave it an id we do not "
                "recognise.",
                permanent=True,
            )
        body = graph_request(
            self.session, "GET", f"/{media_id}", describe=_describe_media_lookup_error
        )
        if not isinstance(body.get("url"), str) or not body["url"]:
            raise ProviderError(f"{GRAPH_LABEL} sent an answer we could not read", permanent=False)
        return body

    def download(self, url: str, *, max_bytes: int) -> Download:
        """Step 2: the file itself, with the same Bearer token, from Meta's hosts only."""

        def allowed(address: str) -> bool:
            return host_matches(address, api_url=settings.META_GRAPH_API_URL, hosts=MEDIA_HOSTS)

        return download(
            url,
            session=self.session,
            label="WhatsApp",
            describe=_describe_download_error,
            max_bytes=max_bytes,
            allowed=allowed,
            redirect_allowed=allowed,
        )
