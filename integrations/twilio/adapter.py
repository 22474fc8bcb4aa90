from dataclasses import replace

from django.conf import settings

from ..base import ProviderError
from ..channel import (
    ChannelAdapter,
    ChannelIdentity,
    FetchedMedia,
    Media,
    OutboundMedia,
    OutboundMessage,
    WebhookRejected,
    WebhookRequest,
)
from ..formatting import PLAIN, html_to_text
from ..media import file_too_large
from . import webhooks
from .client import LABEL, TwilioClient
from .credentials import Credentials
from .forms import TwilioForm

# Twilio's webhook connection overrides, a fragment on the URL we register
# (twilio.com/docs/usage/webhooks/webhooks-connection-overrides). By default Twilio
# retries a failed webhook once (rc=1), and only when it could not connect (the retry
# policy's default, as the page reads); an SMS that arrives while our database restarts
# (503) would be lost. rc=5 is the most retries Twilio makes and rp=all retries on any
# failure, 4xx and 5xx answers and timeouts included, all within Twilio's total time of
# 15 s (tt's default and maximum). Twilio sends no fragment with the request; whether
# it signs the URL with the fragment is not documented, so ``verify`` takes both.
CONNECTION_OVERRIDES = "#rc=5&rp=all"


def with_connection_overrides(url: str) -> str:
    """The URL to give Twilio for a webhook: ours, with the retry overrides."""
    return url if not url or "#" in url else url + CONNECTION_OVERRIDES


class TwilioAdapter(ChannelAdapter):
    kind = "sms"
    label = "SMS"
    identity_label = "Twilio number"
    description = "A Twilio phone number that sends and receives text messages."
    Credentials = Credentials
    webhooks = webhooks
    manual_setup = False
    reaches_phone_numbers = True
    unregister_advice = (
        "Twilio may still send this number's text messages to Octopods, where they are "
        "lost. In the Twilio Console, open Phone Numbers → Manage → Active numbers → the "
        'number, and under Messaging change or clear "A message comes in".'
    )

    @property
    def form(self) -> type:
        return TwilioForm

    def identify(self, *, data: dict) -> ChannelIdentity:
        number = _number(TwilioClient(data["account_sid"], data["auth_token"]), data)
        e164 = data["phone_number"]
        credentials = {
            "account_sid": data["account_sid"],
            "auth_token": data["auth_token"],
            "phone_number": e164,
        }
        if data.get("webhook_shared_key"):
            credentials["webhook_shared_key"] = data["webhook_shared_key"]
        return ChannelIdentity(
            identity=e164, name=str(number.get("friendly_name") or e164), credentials=credentials
        )

    def register_webhook(self, *, credentials: Credentials, webhook_url: str) -> None:
        api = TwilioClient(credentials.account_sid, credentials.auth_token)
        # Looked up again: the number's PN sid is not stored, and the number may have
        # been released or moved since identify.
        number = _number(api, credentials.to_dict())
        api.set_sms_url(number["sid"], url=with_connection_overrides(webhook_url))

    def verify(self, *, credentials: Credentials, request: WebhookRequest) -> None:
        try:
            webhooks.verify(credentials=credentials, request=request)
        except WebhookRejected:
            if "#" in request.url:
                raise
            # Signed over the URL as registered, fragment included (see above).
            signed = replace(request, url=with_connection_overrides(request.url))
            webhooks.verify(credentials=credentials, request=signed)

    def unregister_webhook(self, *, credentials: Credentials) -> None:
        api = TwilioClient(credentials.account_sid, credentials.auth_token)
        number = api.incoming_number(credentials.phone_number)
        if number is None:
            return
        # The channel's own URL is not known here (only its credentials are), so we
        # clear the number's URL only while it still points at this installation: if
        # someone has since pointed it elsewhere, that is theirs to keep.
        if str(number.get("sms_url") or "").startswith(settings.PUBLIC_BASE_URL + "/"):
            api.set_sms_url(number["sid"], url="")

    # --- the message path ---------------------------------------------------------------

    def format_html(self, html: str) -> str:
        # SMS has no formatting: emphasis goes, links are written out.
        return html_to_text(html, PLAIN)

    def takes_caption(self, media: OutboundMedia) -> bool:
        return True  # an MMS carries its Body with the file

    def send(self, *, credentials: Credentials, message: OutboundMessage) -> str:
        if message.template is not None:
            raise ProviderError(
                "Approved templates are a WhatsApp feature; SMS has none. Send the message "
                "as an ordinary reply.",
                permanent=True,
            )
        if message.media is None and not message.text.strip():
            raise ProviderError(
                "The reply had nothing SMS can send: no text and no file.", permanent=True
            )
        return TwilioClient(credentials.account_sid, credentials.auth_token).send_message(
            to=message.to,
            from_=credentials.phone_number,
            body=message.text,
            # Twilio sends a file only as MMS (US and Canadian numbers); elsewhere it
            # writes a link to it into the SMS instead.
            media_url=message.media.url if message.media else "",
            # Delivery statuses are webhooks too: retried the same way.
            status_callback=with_connection_overrides(message.status_callback),
        )

    def fetch_media(
        self, *, credentials: Credentials, media: Media, max_bytes: int
    ) -> FetchedMedia:
        if media.size is not None and media.size > max_bytes:
            raise file_too_large(LABEL, max_bytes=max_bytes, size=media.size)
        api = TwilioClient(credentials.account_sid, credentials.auth_token)
        fetched = api.download(media.ref, max_bytes=max_bytes)
        return FetchedMedia(
            content=fetched.content,
            mime_type=fetched.content_type or media.mime_type or "application/octet-stream",
            filename=fetched.filename,
        )


def _number(api: TwilioClient, data: dict) -> dict:
    phone_number = data["phone_number"]
    number = api.incoming_number(phone_number)
    if number is None:
        raise ProviderError(
            f"{phone_number} is not a number of this Twilio account. Check the number, or "
            "use the Account SID and Auth Token of the account (or subaccount) that owns it.",
            permanent=True,
            field="phone_number",
        )
    capabilities = number.get("capabilities") or {}
    if capabilities.get("sms") is False or capabilities.get("SMS") is False:
        raise ProviderError(
            f"This number cannot send or receive SMS ({LABEL} lists it without the SMS "
            "capability). Pick an SMS-capable number.",
            permanent=True,
            field="phone_number",
        )
    return number
