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
from .client import InstagramClient, download_attachment
from .credentials import Credentials
from .forms import InstagramForm

logger = logging.getLogger(__name__)


class InstagramAdapter(ChannelAdapter):
    kind = "instagram"
    label = "Instagram"
    identity_label = "Instagram account"
    description = (
        "The direct messages of an Instagram professional account linked to a Facebook "
        "Page, through your Meta app."
    )
    Credentials = Credentials
    webhooks = webhooks
    # The callback URL belongs to the Meta app, not to an account: the admin pastes ours
    # and the verify token into the app dashboard (Webhooks → Instagram).
    manual_setup = True
    # 24 hours after the customer's last message, 7 days for a person's reply (HUMAN_AGENT).
    customer_service_window = True
    setup_instructions = (
        "In your Meta app's dashboard, open Webhooks, choose the Instagram object, paste "
        "the callback URL and verify token below and click Verify and save. Then subscribe "
        "to the Instagram fields messages, messaging_postbacks, messaging_seen and "
        "message_reactions. The app needs instagram_basic, instagram_manage_messages and "
        "pages_manage_metadata, and the account must allow access to messages (Instagram "
        "app → Settings → Messages and story replies → Message controls → Connected tools)."
    )
    # Instagram reports when the customer saw a message (messaging_seen), never its
    # delivery: a message the Send API accepted is in the customer's inbox.
    delivery_receipts = False
    unregister_advice = (
        "Meta may still send this Instagram account's messages to Octopods, where they are "
        "lost. In your Meta app's dashboard, remove the linked Page from the app's webhook "
        "subscriptions (or change the Instagram webhook's callback URL), or in Meta "
        "Business Suite remove the app from the Page's connected apps."
    )

    @property
    def form(self) -> type:
        return InstagramForm

    def generated_secrets(self) -> dict:
        return {"verify_token": secrets.token_urlsafe(32)}

    def identify(self, *, data: dict) -> ChannelIdentity:
        page = InstagramClient(data["page_access_token"]).me()
        page_id = data["page_id"]
        page_name = str(page.get("name") or page_id)
        if str(page["id"]) != page_id:
            raise ProviderError(
                f"This token belongs to another Page: {page_name}. Generate a Page access "
                "token for the Page whose ID you entered (or enter that Page's ID).",
                permanent=True,
                field="page_access_token",
            )
        account = page.get("instagram_business_account")
        account_id = account.get("id") if isinstance(account, dict) else None
        if not account_id:
            raise ProviderError(
                f"The Page {page_name} has no Instagram professional account linked to it, "
                "or this token may not see it (it needs instagram_basic). Link the account "
                "in Meta Business Suite → Settings → Instagram accounts, then try again.",
                permanent=True,
                field="page_id",
            )
        username = str(account.get("username") or "")
        credentials = {
            "page_id": page_id,
            "instagram_account_id": str(account_id),
            "page_access_token": data["page_access_token"],
            "app_secret": data["app_secret"],
            "verify_token": data["verify_token"],
        }
        if username:
            credentials["username"] = username
        return ChannelIdentity(
            identity=str(account_id),
            name=f"@{username}" if username else page_name,
            credentials=credentials,
        )

    def register_webhook(self, *, credentials: Credentials, webhook_url: str) -> None:
        # Subscribing the app to the linked Page is what makes Meta send the account's
        # events at all; where it sends them is the app's callback URL (manual_setup).
        InstagramClient(credentials.page_access_token).subscribe_app(credentials.page_id)

    def unregister_webhook(self, *, credentials: Credentials) -> None:
        # register_webhook subscribed the app to the Page on every connect, so the
        # subscription is ours to undo; the app's callback URL is the admin's.
        InstagramClient(credentials.page_access_token).unsubscribe_app(credentials.page_id)

    # --- the message path ---------------------------------------------------------------

    def format_html(self, html: str) -> str:
        # Instagram messages are plain text; emphasis goes, links are written out.
        return html_to_text(html, PLAIN)

    def takes_caption(self, media: OutboundMedia) -> bool:
        return False  # an attachment message carries no text

    def send(self, *, credentials: Credentials, message: OutboundMessage) -> str:
        """Send one message. Instagram has no captions: with ``media`` only the file is
        sent, and ``text`` must go as a message of its own (``takes_caption``)."""
        content = meta.message_content(message, label=self.label, reusable=False)
        return InstagramClient(credentials.page_access_token).send_message(
            credentials.page_id, recipient=message.to, message=content
        )

    def fetch_media(
        self, *, credentials: Credentials, media: Media, max_bytes: int
    ) -> FetchedMedia:
        return meta.fetched_attachment(
            media, label=self.label, max_bytes=max_bytes, fetch=download_attachment
        )
