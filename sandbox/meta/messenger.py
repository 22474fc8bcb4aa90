"""A Messenger chat on the customer phone: Page webhooks (PROVIDERS.md §6.1) to the Meta
app's callback for Pages, only for the fields the Page subscribed the app to."""

import secrets

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from ..customer import Endpoint, KindPhone, Target, millis, subscription, webhook
from ..delivery import Outcome
from ..models import AppSubscription, Conversation, Webhook
from . import graph
from .directory import MESSENGER_PAGES, META_APP
from .webhooks import post_meta

KIND = "messenger"


def messenger_cdn_url(media_ref: str) -> str:
    path = reverse("sandbox:messenger_attachment", kwargs={"ref": media_ref})
    return settings.PUBLIC_BASE_URL + path


def _envelope(conversation: Conversation, events: list[dict]) -> dict:
    return {
        "object": "page",
        "entry": [
            {"id": conversation.endpoint, "time": millis(timezone.now()), "messaging": events}
        ],
    }


def _parties(conversation: Conversation) -> dict:
    return {"sender": {"id": conversation.customer_id}, "recipient": {"id": conversation.endpoint}}


class MessengerPhone(KindPhone):
    kind = KIND
    customer_default = ("Sam Lee", "7423051946112835")
    customer_id_help = "Page-scoped user id (PSID, digits)"
    window = True
    window_closed = "only tagged messages get through (HUMAN_AGENT up to 7 days)"
    after_window = "Messenger only tagged messages (HUMAN_AGENT up to 7 days)"
    receipts = ("delivered", "read")
    captions = False
    no_captions = "Messenger pictures have no caption."
    index_template = "sandbox/meta/messenger_index.html"

    def index_context(self) -> dict:
        return {"meta_app": META_APP, "messenger_pages": MESSENGER_PAGES}

    def endpoints(self) -> list[Endpoint]:
        return [Endpoint(KIND, p.page_id, p.name, f"Page {p.page_id}") for p in MESSENGER_PAGES]

    def resolve(self, endpoint_id: str) -> tuple[Target | None, str]:
        subscribed = subscription(AppSubscription.Owner.PAGE, endpoint_id)
        if subscribed is None:
            return None, (
                "The Page has not subscribed the app. Add it as a Messenger channel in "
                "Octopods; Octopods then calls POST /{page-id}/subscribed_apps."
            )
        found = webhook(Webhook.Scope.META_APP, "page")
        if found is None:
            return None, (
                "The Meta app has no callback URL for Pages. Paste the callback URL and verify "
                "token Octopods shows for the channel into the Meta app dashboard."
            )
        return Target(found, tuple(subscribed.subscribed_fields)), ""

    def refusal(self, target: Target, event: str) -> str:
        if event not in target.fields:
            return (
                f"Not sent: the Page has not subscribed the app to “{event}” "
                "(subscribed_fields), so Meta would not deliver it."
            )
        return ""

    def new_ids(self, conversation, content) -> tuple[str, str]:
        return graph.new_mid(), secrets.token_urlsafe(24) if content.type == "image" else ""

    def send(self, conversation, message, content, target) -> Outcome:
        body: dict = {"mid": message.provider_message_id}
        if content.type == "text":
            body["text"] = content.text
        elif content.type == "image":
            # Messenger has no captions: a picture arrives on its own.
            url = messenger_cdn_url(message.media_ref)
            body["attachments"] = [{"type": "image", "payload": {"url": url}}]
        else:
            body["attachments"] = [
                {
                    "type": "location",
                    "title": content.name or "Pinned Location",
                    "payload": {
                        "coordinates": {"lat": content.latitude, "long": content.longitude}
                    },
                }
            ]
        event = {
            **_parties(conversation),
            "timestamp": millis(message.created_at),
            "message": body,
        }
        return post_meta(target.webhook.url, _envelope(conversation, [event]))

    def receipt_event(self, state: str) -> str:
        return "message_deliveries" if state == "delivered" else "message_reads"

    def post_receipts(self, conversation, waiting, state, target) -> Outcome:
        now = millis(timezone.now())
        if state == "delivered":
            event = {
                **_parties(conversation),
                "delivery": {"mids": [m.provider_message_id for m in waiting], "watermark": now},
            }
        else:
            # Reads name no message: everything sent before the watermark was read.
            event = {**_parties(conversation), "timestamp": now, "read": {"watermark": now}}
        return post_meta(target.webhook.url, _envelope(conversation, [event]))
