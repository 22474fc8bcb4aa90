"""What the inbox shows for a customer's message: text for what it cannot render
(locations, contact cards, reactions, unknown types), files as signed links to us."""

import logging
import mimetypes
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from channels.models import Message
from integrations.base import ProviderError
from integrations.channel import MEDIA_TYPES, Media
from integrations.registry import channel_adapter

from .media import media_url, storage_errors, storage_failure

logger = logging.getLogger(__name__)


INTERCOM_IMAGE_TYPES = ("image/",)


# A customer's message taken back, as the kinds that report it name it (provider_type).
UNSEND = "unsend"


def inbox_content(message: Message) -> tuple[str, tuple[str, ...]]:
    """What the inbox shows for a customer's message: text for what it cannot render
    (locations, contact cards, reactions, unknown types), files as links to us."""
    data = message.data
    kind = message.type
    text = message.text
    if kind == "location":
        place = data.get("location", {})
        lat, lon = place.get("latitude"), place.get("longitude")
        lines = [f"📍 {place['name']}" if place.get("name") else "📍 Location"]
        if place.get("address"):
            lines.append(place["address"])
        lines.append(f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}")
        return "\n".join(lines), ()
    if kind == "contacts":
        cards = []
        for card in data.get("contacts", []):
            details = ", ".join([*card.get("phones", []), *card.get("emails", [])])
            cards.append(
                f"👤 {card.get('name') or 'Contact'}" + (f": {details}" if details else "")
            )
        return "\n".join(cards) or "👤 Contact card", ()
    if kind == "reaction":
        reaction = data.get("reaction", {})
        quoted = _quoted(message, reaction.get("message_id", ""))
        if not reaction.get("emoji"):
            return f"Removed their reaction{f' to: {quoted}' if quoted else ''}", ()
        return f"Reacted {reaction['emoji']}{f' to: {quoted}' if quoted else ''}", ()
    if kind == "unsupported" and data.get("provider_type") == UNSEND:
        # The customer took a message back (Instagram, LINE): say which, if we have it.
        quoted = _quoted(message, data.get("reply_to", ""))
        return f"[The customer unsent a message{f': {quoted}' if quoted else ''}]", ()
    if kind == "unsupported":
        named = data.get("provider_type") or "message"
        what = named if named == "message" else f"{named} message"
        note = f"[The customer sent {_article(what)} {what}, which cannot be shown here.]"
        if data.get("provider_note"):
            note = f"{note[:-1]} The provider says: {data['provider_note']}]"
        return "\n".join(part for part in (text, note) if part), ()
    if kind in MEDIA_TYPES and "media" in data:
        try:
            url, is_image = _carry_media(message)
        except ProviderError as error:
            if not error.permanent:
                raise  # try again later, with the rest of the customer's messages waiting
            # The file is gone or too large: say so rather than drop the message.
            note = (
                f"[The customer sent {_article(kind)} {kind} that could not be fetched: "
                f"{error.message}]"
            )
            return "\n".join(part for part in (text, note) if part), ()
        label = {"voice": "🎤 Voice message", "audio": "🎵 Audio", "video": "🎬 Video"}.get(
            kind, "📎 " + (data["media"].get("filename") or kind.capitalize())
        )
        if is_image:
            return text or ("Sticker" if kind == "sticker" else "Photo"), (url,)
        return "\n".join(part for part in (text, f"{label}: {url}") if part), ()
    if data.get("edits"):
        # Inboxes cannot change a part already posted: say plainly which message the
        # customer changed, so the agent acts on the new words.
        quoted = _quoted(message, data["edits"])
        edited = f"✏️ Edited: {text or f'[{kind}]'}"
        return (f"{edited}\n(was: {quoted})" if quoted else edited), ()
    if data.get("reply_to"):
        quoted = _quoted(message, data["reply_to"])
        if quoted:
            text = f"> {quoted}\n{text}"
    return text or f"[{kind}]", ()


def _article(word: str) -> str:
    # Every provider type name we show starts with a letter whose sound its spelling
    # gives away ("an unsupported", "an image", "a sticker", "a voice").
    return "an" if word[:1].lower() in "aeiou" else "a"


def _quoted(message: Message, provider_message_id: str) -> str:
    if not provider_message_id:
        return ""
    earlier = (
        Message.objects.filter(
            channel_id=message.channel_id, provider_message_id=provider_message_id
        )
        .values_list("text", flat=True)
        .first()
    )
    return (earlier or "")[:200]


def _carry_media(message: Message) -> tuple[str, bool]:
    """Fetch the customer's file from the provider once, keep it in our storage and
    return a signed link to it (and whether it is an image the inbox can show)."""
    stored = message.data.get("stored_media")
    if not stored:
        channel = message.channel
        adapter = channel_adapter(channel.kind)
        media = Media(**message.data["media"])
        fetched = adapter.fetch_media(
            credentials=adapter.credentials(channel.credentials_data),
            media=media,
            max_bytes=settings.MEDIA_MAX_BYTES,
        )
        name = _typed_name(
            fetched.filename or media.filename or f"{message.type}-{message.pk}",
            fetched.mime_type,
        )
        try:
            path = default_storage.save(
                f"media/{channel.pk}/{message.pk}/{name}", ContentFile(fetched.content)
            )
        except storage_errors() as error:
            # A bucket that is missing, unreachable or refuses us: the message waits and
            # is tried again (then fails where the log shows it, with Retry), never
            # relayed without its file.
            reason = storage_failure(error)
            logger.error(
                "message %s: the customer's file could not be stored: %s", message.pk, reason
            )
            raise ProviderError(
                f"Octopods could not store the customer's file: {reason}",
                permanent=False,
                code="storage",
            ) from error
        stored = {"path": path, "mime_type": fetched.mime_type, "name": name}
        message.data = {**message.data, "stored_media": stored}
        message.save(update_fields=["data", "updated_at"])
    return media_url(stored["path"]), stored["mime_type"].startswith(INTERCOM_IMAGE_TYPES)


def _typed_name(name: str, mime_type: str) -> str:
    """The file's name with an extension for its type: photos from WhatsApp or an MMS
    come without a name, and both the inbox and our media link's Content-Type go by the
    extension (without one, a photo is served and shown as an unknown download)."""
    if PurePosixPath(name).suffix:
        return name
    extension = mimetypes.guess_extension(mime_type.split(";", 1)[0].strip().lower())
    return name + (extension or "")
