import logging
import secrets
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from django.conf import settings

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
from . import templates, webhooks
from .client import WhatsAppClient
from .credentials import Credentials
from .forms import WhatsAppForm

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TemplateListing:
    """What ``fetch_templates`` found: the templates we can keep, whether Meta's listing
    was complete (a listing cut short says nothing about templates it did not reach),
    and the ones left out, as "name: why"."""

    templates: tuple[templates.ProviderTemplate, ...]
    complete: bool
    skipped: tuple[str, ...] = ()


# How this kind writes an inbox reply (integrations/formatting.py).
WHATSAPP = Style(
    bold=("*", "*"),
    italic=("_", "_"),
    strike=("~", "~"),
    code=("`", "`"),
    pre=("```", "```"),
)


class WhatsAppAdapter(ChannelAdapter):
    kind = "whatsapp"
    label = "WhatsApp"
    identity_label = "WhatsApp number"
    description = "A WhatsApp Business number on Meta's Cloud API."
    Credentials = Credentials
    webhooks = webhooks
    # The number's webhook override is set through the API, so nothing is pasted into
    # Meta's dashboard (the app itself must exist and be subscribed to "messages").
    manual_setup = False
    unregister_advice = (
        "Meta may still send this number's messages to Octopods, where they are lost. "
        "Connect the number to Octopods again, or have whoever manages your Meta app "
        "remove the number's alternate callback URL (its webhook override): a POST to "
        "the phone number with an empty override_callback_uri in webhook_configuration."
    )
    approved_templates = True
    customer_service_window = True
    reaches_phone_numbers = True

    def phone_external_id(self, phone: str) -> str:
        # wa_id is the number without "+".
        return phone.removeprefix("+")

    @property
    def form(self) -> type:
        return WhatsAppForm

    def generated_secrets(self) -> dict:
        return {"verify_token": secrets.token_urlsafe(32)}

    def identify(self, *, data: dict) -> ChannelIdentity:
        api = WhatsAppClient(data["access_token"])
        phone_number_id, waba_id = data["phone_number_id"], data["waba_id"]
        number = api.phone_number(phone_number_id)
        # Webhooks name the WABA (entry[].id) and the override is set per number, so a
        # number paired with someone else's WABA would half work; refuse it here.
        if phone_number_id not in api.waba_phone_number_ids(waba_id):
            raise ProviderError(
                "This phone number does not belong to this WhatsApp Business Account. "
                "Use the WhatsApp Business Account ID shown beside the Phone number ID in "
                "WhatsApp → API Setup.",
                permanent=True,
                field="waba_id",
            )
        display = str(number.get("display_phone_number") or phone_number_id)
        return ChannelIdentity(
            identity=phone_number_id,
            name=str(number.get("verified_name") or display),
            credentials={
                "phone_number_id": phone_number_id,
                "waba_id": waba_id,
                "access_token": data["access_token"],
                "app_secret": data["app_secret"],
                "verify_token": data["verify_token"],
            },
        )

    def register_webhook(self, *, credentials: Credentials, webhook_url: str) -> None:
        api = WhatsAppClient(credentials.access_token)
        # Subscribing is idempotent and leaves the WABA's other numbers where they are:
        # without an override of their own they keep going to the WABA's or app's URL.
        api.subscribe_app(credentials.waba_id)
        api.set_webhook_override(
            credentials.phone_number_id,
            callback_url=webhook_url,
            verify_token=credentials.verify_token,
        )

    def unregister_webhook(self, *, credentials: Credentials) -> None:
        # Only the number's override is ours to undo: unsubscribing the app from the
        # WABA would cut off its other numbers, which may be channels of their own.
        # Without its override the number falls back to the WABA's or the app's URL.
        api = WhatsAppClient(credentials.access_token)
        override = api.webhook_override(credentials.phone_number_id)
        # Cleared only while it still points at this installation: if someone has since
        # pointed the number elsewhere, that is theirs to keep (as for Twilio's URL).
        if override.startswith(settings.PUBLIC_BASE_URL + "/"):
            api.remove_webhook_override(credentials.phone_number_id)

    # --- the message path ---------------------------------------------------------------

    def format_html(self, html: str) -> str:
        return html_to_text(html, WHATSAPP)

    def takes_caption(self, media: OutboundMedia) -> bool:
        """Whether ``text`` goes out with this file; when not, the relay sends it as a
        message of its own (WhatsApp takes no caption on audio or stickers)."""
        return _media_type(media) not in ("audio", "sticker")

    def send(self, *, credentials: Credentials, message: OutboundMessage) -> str:
        return WhatsAppClient(credentials.access_token).send_message(
            credentials.phone_number_id, {**_recipient(message.to), **_content(message)}
        )

    def fetch_templates(self, *, credentials: Credentials) -> TemplateListing:
        raw, complete = WhatsAppClient(credentials.access_token).message_templates(
            credentials.waba_id
        )
        kept: dict[tuple[str, str], templates.ProviderTemplate] = {}
        skipped: list[str] = []
        for item in raw:
            try:
                template = templates.template_from_meta(item)
            except templates.TemplateUnreadable as why:
                name = item.get("name") if isinstance(item, dict) else None
                label = name[:60] if isinstance(name, str) and name else "a template"
                skipped.append(f"{label}: {why}")
                continue
            # A (name, language) Meta lists twice (a cursor that went back): the first.
            kept.setdefault((template.name, template.language), template)
        if skipped:
            # %r: names are the provider's text, and a log line is ours.
            logger.warning(
                "WABA %s: %d templates not kept: %r",
                credentials.waba_id,
                len(skipped),
                skipped[:5],
            )
        return TemplateListing(tuple(kept.values()), complete, tuple(skipped))

    def fetch_media(
        self, *, credentials: Credentials, media: Media, max_bytes: int
    ) -> FetchedMedia:
        if media.size is not None and media.size > max_bytes:
            raise file_too_large(self.label, max_bytes=max_bytes, size=media.size)
        api = WhatsAppClient(credentials.access_token)
        found = api.media(media.ref)
        size = _int(found.get("file_size"))
        if size is not None and size > max_bytes:
            raise file_too_large(self.label, max_bytes=max_bytes, size=size)
        # The URL lives about five minutes, so it is used at once and never stored.
        fetched = api.download(found["url"], max_bytes=max_bytes)
        mime_type = str(found.get("mime_type") or "") or fetched.content_type or media.mime_type
        return FetchedMedia(
            content=fetched.content,
            mime_type=mime_type or "application/octet-stream",
            filename=safe_filename(media.filename) or fetched.filename,
        )


def _recipient(to: str) -> dict:
    """A number (``wa_id``) goes in ``to``; a customer known only by their business-scoped
    user id (``BR.1502576394655843``: a country code, a dot, letters and digits — a
    username that hides the number) goes in ``recipient``, which Meta added to the send
    call for them (Meta's "Business-scoped user IDs": "Use to to send to a phone number,
    recipient to send to a BSUID or parent BSUID")."""
    if to.lstrip("+").isdigit():
        return {"to": to}
    return {"recipient": to}


def _content(message: OutboundMessage) -> dict:
    """The ``type`` and its object for one OutboundMessage (PROVIDERS.md §3.5)."""
    if message.template is not None:
        template = message.template
        definition = templates.TemplateDefinition(
            parameter_format=template.parameter_format, components=list(template.components)
        )
        try:
            components = templates.send_components(definition, dict(template.values))
        except templates.TemplateValuesInvalid as invalid:
            # Caught before the call; Meta would answer 131008 or 131009.
            raise ProviderError(
                f"The template “{template.name}” was not sent: {invalid}", permanent=True
            ) from None
        content: dict = {"name": template.name, "language": {"code": template.language}}
        if components:
            content["components"] = components
        return {"type": "template", "template": content}
    if message.media is not None:
        kind = _media_type(message.media)
        content = {"link": message.media.url}
        if message.text and kind not in ("audio", "sticker"):
            content["caption"] = message.text
        if kind == "document":
            # Without a filename WhatsApp shows the document as "Untitled".
            content["filename"] = _filename(message.media)
        return {"type": kind, kind: content}
    if not message.text.strip():
        raise ProviderError(
            "The reply had nothing WhatsApp can send: no text and no file.", permanent=True
        )
    # Link previews would show the customer pages the agent did not choose to show.
    return {"type": "text", "text": {"body": message.text, "preview_url": False}}


# WhatsApp's image type takes only JPEG and PNG, and WebP only as a sticker; any other
# file still reaches the customer as a document.
_IMAGE_TYPES = {"image/jpeg", "image/jpg", "image/png"}


def _media_type(media: OutboundMedia) -> str:
    mime_type = media.mime_type.split(";", 1)[0].strip().lower()
    if mime_type in _IMAGE_TYPES:
        return "image"
    if mime_type == "image/webp":
        return "sticker"
    family = mime_type.split("/", 1)[0]
    if family in ("video", "audio"):
        return family
    return "document"


def _filename(media: OutboundMedia) -> str:
    return (
        safe_filename(media.filename)
        or safe_filename(unquote(PurePosixPath(urlsplit(media.url).path).name))
        or "document"
    )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
