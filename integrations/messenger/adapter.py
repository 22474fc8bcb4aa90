import logging
import secrets

from .. import meta
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
from . import webhooks
from .client import MessengerClient, download_attachment
from .credentials import Credentials
from .forms import MessengerForm

logger = logging.getLogger(__name__)


class MessengerAdapter(ChannelAdapter):
    kind = "messenger"
    label = "Messenger"
    identity_label = "Facebook Page"
    description = "The Messenger inbox of a Facebook Page, through your Meta app."
    Credentials = Credentials
    webhooks = webhooks
    # Messenger's callback URL belongs to the Meta app, not to a Page: the admin pastes
    # ours and the verify token into the app dashboard (Messenger → Webhooks).
    manual_setup = True
    customer_service_window = True
    setup_instructions = (
        "In your Meta app's dashboard, open Messenger → Messenger API Settings → Configure "
        "webhooks, paste the callback URL and verify token below and click Verify and "
        "save. Then subscribe to the webhook fields messages, messaging_postbacks, "
        "message_deliveries, message_reads and message_reactions."
    )
    unregister_advice = (
        "Meta may still send this Page's messages to Octopods, where they are lost. In "
        "your Meta app's dashboard, open Messenger → Messenger API Settings and remove "
        "the Page from the app's webhook subscriptions (or change the callback URL)."
    )

    @property
    def form(self) -> type:
        return MessengerForm

    def generated_secrets(self) -> dict:
        return {"verify_token": secrets.token_urlsafe(32)}

    def identify(self, *, data: dict) -> ChannelIdentity:
        page = MessengerClient(data["page_access_token"]).me()
        page_id = data["page_id"]
        name = str(page.get("name") or page_id)
        if str(page["id"]) != page_id:
            raise ProviderError(
                f"This token belongs to another Page: {name}. Generate a Page access token "
                "for the Page whose ID you entered (or enter that Page's ID).",
                permanent=True,
                field="page_access_token",
            )
        return ChannelIdentity(
            identity=page_id,
            name=name,
            credentials={
                "page_id": page_id,
                "page_access_token": data["page_access_token"],
                "app_secret": data["app_secret"],
                "verify_token": data["verify_token"],
            },
        )

    def register_webhook(self, *, credentials: Credentials, webhook_url: str) -> None:
        # Subscribing the app to the Page is what makes Meta send the Page's events at
        # all; where it sends them is the app's callback URL (manual_setup).
        MessengerClient(credentials.page_access_token).subscribe_app(credentials.page_id)

    def unregister_webhook(self, *, credentials: Credentials) -> None:
        # register_webhook subscribed the app to the Page on every connect, so the
        # subscription is ours to undo; the app's callback URL is the admin's (pasted
        # in the dashboard) and stays.
        MessengerClient(credentials.page_access_token).unsubscribe_app(credentials.page_id)

    # --- the message path ---------------------------------------------------------------

    def format_html(self, html: str) -> str:
        # The Send API takes plain text only; emphasis goes, links are written out.
        return html_to_text(html, PLAIN)

    def takes_caption(self, media: OutboundMedia) -> bool:
        return False  # an attachment message carries no text

    def send(self, *, credentials: Credentials, message: OutboundMessage) -> str:
        """Send one message. Messenger has no captions: with ``media`` only the file is
        sent, and ``text`` must go as a message of its own (``takes_caption``)."""
        content = meta.message_content(message, label=self.label, reusable=True)
        return MessengerClient(credentials.page_access_token).send_message(
            credentials.page_id, recipient=message.to, message=content
        )

    def fetch_media(
        self, *, credentials: Credentials, media: Media, max_bytes: int
    ) -> FetchedMedia:
        return meta.fetched_attachment(
            media, label=self.label, max_bytes=max_bytes, fetch=download_attachment
        )
