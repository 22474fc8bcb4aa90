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
from ..formatting import Style, html_to_text
from ..media import file_too_large, safe_filename
from . import webhooks
from .client import ViberClient
from .credentials import Credentials
from .forms import ViberForm

# Viber's own markdown (developers.viber.com/docs/tools/text-formatting/): *bold*,
# _italic_, ~strike~ and ```monospace```; no inline code, no underline. Viber 14.6 and
# later show it; older apps show the symbols.
VIBER = Style(
    bold=("*", "*"),
    italic=("_", "_"),
    strike=("~", "~"),
    pre=("```", "```"),
)

# send_message's sender.name: at most 28 characters.
SENDER_NAME_LENGTH = 28

_OCTETS = "application/octet-stream"


class ViberAdapter(ChannelAdapter):
    kind = "viber"
    label = "Viber"
    identity_label = "Viber bot"
    description = "A Viber bot (an account on Viber's REST bot API, with its auth token)."
    Credentials = Credentials
    webhooks = webhooks
    manual_setup = False
    # delivered and seen callbacks (set_webhook's event_types ask for them).
    delivery_receipts = True
    # Viber has no 24-hour window: a bot may write to a subscriber at any time, and to
    # no one else (send_message refuses with status 6, explained to the agent then).
    customer_service_window = False
    # A bot cannot write to a phone number: only to a Viber user id it was given by the
    # user's own message or subscription.
    reaches_phone_numbers = False
    approved_templates = False
    unregister_advice = (
        "Viber may still send the bot's messages to Octopods, where they are lost, and "
        "customers still see a chat that no one answers. Connect the bot to Octopods again, "
        'or remove its webhook: POST {"url": ""} to '
        "https://chatapi.viber.com/pa/set_webhook with the header X-Viber-Auth-Token set "
        "to the bot's token."
    )

    def phone_external_id(self, phone: str) -> str:
        # Viber names a customer by an opaque user id ("01234567890A="), never by their
        # number: no number is a Viber id, so none finds a customer here.
        return ""

    @property
    def form(self) -> type:
        return ViberForm

    def identify(self, *, data: dict) -> ChannelIdentity:
        info = ViberClient(data["auth_token"]).get_account_info()
        return ChannelIdentity(
            identity=info["id"],
            name=info["name"] or info["id"],
            credentials={
                "auth_token": data["auth_token"],
                "bot_id": info["id"],
                "bot_name": info["name"] or info["id"],
            },
        )

    def register_webhook(self, *, credentials: Credentials, webhook_url: str) -> None:
        ViberClient(credentials.auth_token).set_webhook(url=webhook_url)

    def unregister_webhook(self, *, credentials: Credentials) -> None:
        ViberClient(credentials.auth_token).set_webhook(url="")

    # --- the message path ---------------------------------------------------------------

    def format_html(self, html: str) -> str:
        return html_to_text(html, VIBER)

    def takes_caption(self, media: OutboundMedia) -> bool:
        # Only a picture message has a text; video and file messages have none.
        return _message_type(media) == "picture"

    def send(self, *, credentials: Credentials, message: OutboundMessage) -> str:
        if message.template is not None:
            raise ProviderError(
                "Approved templates are a WhatsApp feature; Viber has none. Send the "
                "message as an ordinary reply.",
                permanent=True,
            )
        api = ViberClient(credentials.auth_token)
        payload: dict = {
            "receiver": message.to,
            "sender": {"name": credentials.bot_name[:SENDER_NAME_LENGTH]},
        }
        if message.media is not None:
            payload.update(_media_payload(api, message.media, message.text))
        elif message.text.strip():
            payload.update(type="text", text=message.text)
        else:
            raise ProviderError(
                "The reply had nothing Viber can send: no text and no file.", permanent=True
            )
        return api.send_message(payload)

    def fetch_media(
        self, *, credentials: Credentials, media: Media, max_bytes: int
    ) -> FetchedMedia:
        if media.size is not None and media.size > max_bytes:
            raise file_too_large(self.label, max_bytes=max_bytes, size=media.size)
        fetched = ViberClient(credentials.auth_token).download(media.ref, max_bytes=max_bytes)
        path = urlsplit(media.ref).path
        served = fetched.content_type if not fetched.content_type.startswith(_OCTETS) else ""
        name = safe_filename(media.filename) or fetched.filename or safe_filename(path)
        mime_type = media.mime_type or served or mimetypes.guess_type(name)[0]
        return FetchedMedia(content=fetched.content, mime_type=mime_type or _OCTETS, filename=name)


def _message_type(media: OutboundMedia) -> str:
    mime_type = media.mime_type.split(";", 1)[0].strip().lower()
    if not mime_type:
        name = media.filename or urlsplit(media.url).path
        mime_type = (mimetypes.guess_type(name)[0] or "").lower()
    # Viber's picture message takes JPEG, PNG and non-animated GIF; its video message
    # takes MP4 (H.264). Anything else goes as a file.
    if mime_type in ("image/jpeg", "image/png", "image/gif"):
        return "picture"
    if mime_type == "video/mp4":
        return "video"
    return "file"


def _media_payload(api: ViberClient, media: OutboundMedia, text: str) -> dict:
    kind = _message_type(media)
    if kind == "picture":
        # Our signed links are public HTTPS URLs, which Viber fetches itself.
        return {"type": "picture", "media": media.url, "text": text}
    # Video and file messages require the file's size in bytes.
    size = api.file_size(media.url)
    if size is None:
        # Without a size Viber refuses the file; the customer still gets it as a link.
        return {"type": "text", "text": "\n".join(filter(None, (text, media.url)))}
    if kind == "video":
        return {"type": "video", "media": media.url, "size": size}
    filename = safe_filename(media.filename) or safe_filename(urlsplit(media.url).path) or "file"
    return {"type": "file", "media": media.url, "size": size, "file_name": filename}
