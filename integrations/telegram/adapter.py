import html
import logging
import mimetypes
import re
import secrets
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
from .client import FormattingRefused, TelegramClient
from .credentials import Credentials
from .forms import TelegramForm

logger = logging.getLogger(__name__)


# How this kind writes an inbox reply (integrations/formatting.py).
TELEGRAM = Style(
    bold=("<b>", "</b>"),
    italic=("<i>", "</i>"),
    underline=("<u>", "</u>"),
    strike=("<s>", "</s>"),
    code=("<code>", "</code>"),
    pre=("<pre>", "</pre>"),
    html_links=True,
    escapes_html=True,
    # Telegram refuses the whole message ("can't parse entities") for a link it does
    # not support; mailto: and tel: go out as text instead.
    link_schemes=frozenset({"http", "https", "tg"}),
)


class TelegramAdapter(ChannelAdapter):
    kind = "telegram"
    label = "Telegram"
    identity_label = "Telegram bot"
    description = "A Telegram bot you created with @BotFather."
    Credentials = Credentials
    webhooks = webhooks
    manual_setup = False
    unregister_advice = (
        "Telegram may still send the bot's messages to Octopods, where they are lost. "
        "Connect the bot to Octopods again, or open https://api.telegram.org/bot<your "
        "bot token>/deleteWebhook in a browser."
    )
    # The Bot API reports no deliveries or reads; sendMessage answering ok means the
    # message is in the chat.
    delivery_receipts = False

    @property
    def form(self) -> type:
        return TelegramForm

    def generated_secrets(self) -> dict:
        # 43 characters of A-Z a-z 0-9 _ -: inside what setWebhook accepts (1-256).
        return {"secret_token": secrets.token_urlsafe(32)}

    def identify(self, *, data: dict) -> ChannelIdentity:
        bot = TelegramClient(data["bot_token"]).get_me()
        bot_id = str(bot["id"])
        username = str(bot["username"])
        return ChannelIdentity(
            identity=bot_id,
            name=f"@{username}",
            credentials={
                "bot_token": data["bot_token"],
                "secret_token": data["secret_token"],
                "bot_id": bot_id,
                "bot_username": username,
            },
        )

    def register_webhook(self, *, credentials: Credentials, webhook_url: str) -> None:
        TelegramClient(credentials.bot_token).set_webhook(
            url=webhook_url, secret_token=credentials.secret_token
        )

    def unregister_webhook(self, *, credentials: Credentials) -> None:
        TelegramClient(credentials.bot_token).delete_webhook()

    def answer_tap(self, *, credentials: Credentials, query_id: str) -> None:
        TelegramClient(credentials.bot_token).answer_callback_query(query_id)

    # --- the message path ---------------------------------------------------------------

    def format_html(self, html: str) -> str:
        """Telegram's HTML subset, escaped, for ``parse_mode`` HTML. Plain text goes
        through here too (it is escaped), since every text we send is parsed as HTML."""
        return html_to_text(html, TELEGRAM)

    def takes_caption(self, media: OutboundMedia) -> bool:
        return True  # every send method we use takes a caption (up to 1,024 characters)

    def send(self, *, credentials: Credentials, message: OutboundMessage) -> str:
        if message.template is not None:
            raise ProviderError(
                "Approved templates are a WhatsApp feature; Telegram has none. Send the "
                "message as an ordinary reply.",
                permanent=True,
            )
        payload: dict = {"chat_id": _chat_id(message.to)}
        if message.media is not None:
            method, field = _file_method(message.media)
            payload[field] = message.media.url
            if message.text:
                payload.update(caption=message.text, parse_mode="HTML")
        elif message.text.strip():
            method = "sendMessage"
            payload.update(text=message.text, parse_mode="HTML")
        else:
            raise ProviderError(
                "The reply had nothing Telegram can send: no text and no file.", permanent=True
            )
        api = TelegramClient(credentials.bot_token)
        try:
            sent = api.send(method, payload)
        except FormattingRefused:
            # Text that is not Telegram HTML (a plain signature or automatic message with
            # a bare "&" or "<") would be refused every time; it goes out unformatted.
            logger.warning("Telegram could not parse a message as HTML; sending it as text")
            sent = api.send(method, _unformatted(payload))
        # The same shape the webhook parser gives the customer's messages (chat id and
        # message id), so replies and reactions to this message find it.
        return f"{sent['chat']['id']}:{sent['message_id']}"

    def fetch_media(
        self, *, credentials: Credentials, media: Media, max_bytes: int
    ) -> FetchedMedia:
        if media.size is not None and media.size > max_bytes:
            raise file_too_large(self.label, max_bytes=max_bytes, size=media.size)
        api = TelegramClient(credentials.bot_token)
        found = api.get_file(media.ref)
        size = found.get("file_size")
        if isinstance(size, int) and size > max_bytes:
            raise file_too_large(self.label, max_bytes=max_bytes, size=size)
        path = found["file_path"]
        fetched = api.download(path, max_bytes=max_bytes)
        # Telegram's file server answers application/octet-stream for most files; the
        # webhook's mime_type (or the path's extension: photos/file_1.jpg) says more.
        served = fetched.content_type if not fetched.content_type.startswith(_OCTETS) else ""
        mime_type = media.mime_type or served or mimetypes.guess_type(path)[0]
        return FetchedMedia(
            content=fetched.content,
            mime_type=mime_type or _OCTETS,
            filename=safe_filename(media.filename) or fetched.filename or safe_filename(path),
        )


_OCTETS = "application/octet-stream"
# Voice notes are OGG/Opus; sendAudio is for music files Telegram shows with a player.
_VOICE_TYPES = {"audio/ogg", "audio/opus"}
_AUDIO_TYPES = {"audio/mpeg", "audio/mp3", "audio/mp4", "audio/m4a", "audio/x-m4a", "audio/aac"}


def _file_method(media: OutboundMedia) -> tuple[str, str]:
    """The send method for a file, and the name of its parameter."""
    mime_type = media.mime_type.split(";", 1)[0].strip().lower()
    if not mime_type:
        name = media.filename or urlsplit(media.url).path
        mime_type = (mimetypes.guess_type(name)[0] or "").lower()
    family = mime_type.split("/", 1)[0]
    # A GIF sent as a photo loses its animation; as a document Telegram plays it.
    if family == "image" and mime_type != "image/gif":
        return "sendPhoto", "photo"
    if family == "video":
        return "sendVideo", "video"
    if mime_type in _VOICE_TYPES:
        return "sendVoice", "voice"
    if mime_type in _AUDIO_TYPES:
        return "sendAudio", "audio"
    return "sendDocument", "document"


# The tags of Telegram's HTML subset (PROVIDERS.md §5.3), and its links.
_LINK = re.compile(r'<a\s+href="([^"]*)"\s*>(.*?)</a>', re.DOTALL)
_TAGS = re.compile(
    r"</?(?:b|strong|i|em|u|ins|s|strike|del|code|pre|a|span|tg-spoiler|blockquote)\b[^>]*>"
)


def _unformatted(payload: dict) -> dict:
    """The same send as plain text: tags removed, links written out, entities read."""
    plain = {key: value for key, value in payload.items() if key != "parse_mode"}
    for field in ("text", "caption"):
        if field in plain:
            text = _LINK.sub(lambda link: _written_link(link[2], link[1]), plain[field])
            plain[field] = html.unescape(_TAGS.sub("", text))
    return plain


def _written_link(text: str, href: str) -> str:
    # Still escaped: the whole text is unescaped once, after.
    shown = _TAGS.sub("", text)
    if not shown.strip() or html.unescape(shown).strip() == html.unescape(href):
        return href
    return f"{shown} ({href})"


def _chat_id(to: str) -> int | str:
    # A private chat's id is the user's id, an integer; a @username stays text.
    try:
        return int(to)
    except ValueError:
        return to
