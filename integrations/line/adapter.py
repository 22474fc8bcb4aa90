"""LINE Messaging API channel: a LINE Official Account customers chat with one-on-one.

Replies go out as push messages, never with the webhook's reply token: a reply token
works once and only for a short while after the customer's message, and an agent's
answer reaches the relay minutes later, often after other replies. Push works at any
time, at the price of counting against the account's monthly message allowance; when
that is used up, the agent is told so in plain words (client.QUOTA_USED_UP).
"""

import logging
import mimetypes
from urllib.parse import urlsplit

from ..base import ProviderError
from ..channel import (
    ChannelAdapter,
    ChannelIdentity,
    FetchedMedia,
    Media,
    OutboundMedia,
    OutboundMessage,
)
from ..formatting import PLAIN, html_to_text
from ..media import file_too_large, safe_filename
from . import webhooks
from .client import QUOTA_USED_UP, LineClient, download_external
from .credentials import Credentials
from .forms import LineForm

logger = logging.getLogger(__name__)

# A text message holds at most 5,000 characters.
TEXT_LIMIT = 5000
_OCTETS = "application/octet-stream"
# What LINE shows as a picture or plays as a video when sent by URL.
_IMAGE_TYPES = {"image/jpeg", "image/jpg", "image/png"}


class LineAdapter(ChannelAdapter):
    kind = "line"
    label = "LINE"
    identity_label = "LINE Official Account"
    description = "A LINE Official Account with the Messaging API turned on."
    Credentials = Credentials
    webhooks = webhooks
    manual_setup = False
    # LINE tells a bot nothing about delivery or reading of what it sent: the webhook
    # has no such event (markAsRead goes the other way: the bot marks the customer's
    # messages read). A push LINE accepted is in the customer's chat.
    delivery_receipts = False
    # LINE has no customer-service window: a push reaches a friend of the account at
    # any time (it counts against the monthly allowance instead).
    customer_service_window = False
    # A LINE user id is not a phone number, and LINE gives a bot none: a teammate only
    # answers chats the customer opened.
    reaches_phone_numbers = False
    unregister_advice = (
        "LINE has no way for Octopods to remove its webhook, so LINE may still send this "
        "account's messages to Octopods, where they are lost. In the LINE Developers "
        "Console, open the channel's Messaging API tab and, under Webhook settings, turn "
        "off Use webhook or change the Webhook URL to your new system's."
    )

    @property
    def form(self) -> type:
        return LineForm

    def identify(self, *, data: dict) -> ChannelIdentity:
        # The access token is checked here; the channel secret only when LINE's webhook
        # test comes back signed with it (register_webhook).
        bot = LineClient(data["channel_access_token"]).bot_info()
        return ChannelIdentity(
            identity=bot.userId,
            name=bot.displayName or bot.basicId,
            credentials={
                "channel_access_token": data["channel_access_token"],
                "channel_secret": data["channel_secret"],
                "bot_user_id": bot.userId,
                "basic_id": bot.basicId,
            },
        )

    def register_webhook(self, *, credentials: Credentials, webhook_url: str) -> None:
        """Set the webhook URL, have LINE test it, and check LINE will use it."""
        api = LineClient(credentials.channel_access_token)
        api.set_webhook_endpoint(webhook_url)
        result = api.test_webhook_endpoint(webhook_url)
        if result.success is not True:
            raise _test_failed(result, webhook_url)
        if not api.webhook_endpoint().active:
            raise ProviderError(
                "LINE has Octopods' webhook address but will not send anything to it: "
                "Use webhook is off. In the LINE Developers Console, open the channel's "
                "Messaging API tab, turn on Use webhook under Webhook settings, and add "
                "the channel again.",
                permanent=True,
            )

    def unregister_webhook(self, *, credentials: Credentials) -> None:
        # The API sets a webhook URL but has no call to remove one or turn the webhook
        # off; the admin does that in the console (unregister_advice).
        raise ProviderError(
            "LINE's API cannot remove a webhook; it stays until changed in the LINE "
            "Developers Console.",
            permanent=True,
        )

    # --- the message path ---------------------------------------------------------------

    def format_html(self, html: str) -> str:
        # LINE shows text as it is: no markup, links written out.
        return html_to_text(html, PLAIN)

    def takes_caption(self, media: OutboundMedia) -> bool:
        # One push carries up to five messages: the file and its text go together.
        return True

    def send(self, *, credentials: Credentials, message: OutboundMessage) -> str:
        if message.template is not None:
            raise ProviderError(
                "Approved templates are a WhatsApp feature; LINE has none. Send the "
                "message as an ordinary reply.",
                permanent=True,
            )
        messages = _messages(message)
        api = LineClient(credentials.channel_access_token)
        try:
            return api.push(
                to=message.to, messages=messages, idempotency_key=message.idempotency_key
            )
        except ProviderError as error:
            if error.code == "quota":
                raise _quota_error(api, error) from None
            raise

    def fetch_media(
        self, *, credentials: Credentials, media: Media, max_bytes: int
    ) -> FetchedMedia:
        if media.size is not None and media.size > max_bytes:
            raise file_too_large(self.label, max_bytes=max_bytes, size=media.size)
        if "://" in media.ref:
            fetched = download_external(media.ref, max_bytes=max_bytes)
            path = urlsplit(media.ref).path
        else:
            fetched = LineClient(credentials.channel_access_token).content(
                media.ref, max_bytes=max_bytes
            )
            path = ""
        served = fetched.content_type.split(";", 1)[0].strip()
        if served == _OCTETS:
            served = ""
        filename = safe_filename(media.filename) or fetched.filename or safe_filename(path)
        mime_type = served or media.mime_type or mimetypes.guess_type(filename)[0] or _OCTETS
        if not filename:
            filename = f"line-{media.ref[-20:]}{mimetypes.guess_extension(mime_type) or ''}"
            filename = safe_filename(filename)
        return FetchedMedia(content=fetched.content, mime_type=mime_type, filename=filename)


def _messages(message: OutboundMessage) -> list[dict]:
    """LINE message objects for one reply: the file (if any), then its text."""
    text = message.text.strip()
    messages: list[dict] = []
    if message.media is not None:
        media = message.media
        if _mime_type(media) in _IMAGE_TYPES:
            # previewImageUrl is required; our one address serves both.
            messages.append(
                {"type": "image", "originalContentUrl": media.url, "previewImageUrl": media.url}
            )
        else:
            # Videos need a preview picture and audio its duration, which a reply's file
            # does not come with; other files LINE cannot send at all. They go as a link.
            name = media.filename or safe_filename(urlsplit(media.url).path) or "File"
            link = f"📎 {name}: {media.url}"
            text = f"{text}\n{link}" if text else link
    elif not text:
        raise ProviderError(
            "The reply had nothing LINE can send: no text and no file.", permanent=True
        )
    if text:
        if len(text) > TEXT_LIMIT:
            raise ProviderError(
                f"The reply is longer than the {TEXT_LIMIT:,} characters LINE allows in one "
                "message. Send it in parts.",
                permanent=True,
            )
        messages.append({"type": "text", "text": text})
    return messages


def _mime_type(media: OutboundMedia) -> str:
    mime_type = media.mime_type.split(";", 1)[0].strip().lower()
    if not mime_type:
        name = media.filename or urlsplit(media.url).path
        mime_type = (mimetypes.guess_type(name)[0] or "").lower()
    return mime_type


def _quota_error(api: LineClient, error: ProviderError) -> ProviderError:
    """The used-up quota, with the numbers when LINE gives them."""
    usage = ""
    try:
        limit, used = api.quota_usage()
        usage = f" ({used:,} of {limit:,} sent)" if limit is not None else f" ({used:,} sent)"
    except ProviderError:
        logger.info("LINE quota could not be read after a monthly-limit refusal")
    return ProviderError(
        QUOTA_USED_UP.format(usage=usage),
        permanent=True,
        status=error.status,
        code=error.code,
    )


def _test_failed(result, webhook_url: str) -> ProviderError:
    said = ": ".join(part for part in (result.reason, result.detail) if part)
    if result.statusCode in (401, 403):
        return ProviderError(
            "LINE reached Octopods, but its request was not signed with the channel secret "
            "you entered. Copy the Channel secret again from the channel's Basic settings "
            "tab in the LINE Developers Console (if it was reissued, use the new one).",
            permanent=True,
            field="channel_secret",
            status=result.statusCode,
        )
    return ProviderError(
        f"LINE could not deliver a test message to Octopods at {webhook_url} "
        f"(HTTP {result.statusCode}{f', {said}' if said else ''}). LINE only delivers to a "
        "public HTTPS address: check PUBLIC_BASE_URL, then add the channel again.",
        permanent=True,
        status=result.statusCode if result.statusCode > 0 else None,
    )
