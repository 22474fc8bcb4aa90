"""A WhatsApp chat on the customer phone: Cloud API webhooks (PROVIDERS.md §3.4) to the
number's override, its WABA's, or the Meta app's callback, signed with the app secret."""

import re
import secrets

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from .. import customer, media
from ..customer import Endpoint, KindPhone, Target, subscription, unix, webhook
from ..delivery import Outcome
from ..directory import INTERCOM_WORKSPACES
from ..models import AppSubscription, Conversation, IntercomContact, Webhook
from . import graph, whatsapp_templates
from .directory import META_APP, WHATSAPP_NUMBERS, whatsapp_number
from .webhooks import post_meta

KIND = "whatsapp"


def whatsapp_display_digits(display_phone_number: str) -> str:
    # Webhook metadata carries the business number as bare digits.
    return re.sub(r"[^0-9]", "", display_phone_number)


def _envelope(conversation: Conversation, value: dict) -> dict:
    number = whatsapp_number(conversation.endpoint)
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": number.waba_id,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": whatsapp_display_digits(
                                    number.display_phone_number
                                ),
                                "phone_number_id": number.phone_number_id,
                            },
                            **value,
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


class WhatsAppPhone(KindPhone):
    kind = KIND
    customer_default = ("Kerry Fisher", "15551234567")
    customer_id_help = "WhatsApp number (digits, country code first)"
    window = True
    window_closed = "only templates get through"
    after_window = "WhatsApp accepts only templates"
    receipts = ("delivered", "read")
    index_template = "sandbox/meta/whatsapp_index.html"

    def index_context(self) -> dict:
        return {
            "meta_app": META_APP,
            "whatsapp_numbers": WHATSAPP_NUMBERS,
            "whatsapp_templates": [
                (number, whatsapp_templates.catalog(number.waba_id)) for number in WHATSAPP_NUMBERS
            ],
        }

    def endpoints(self) -> list[Endpoint]:
        return [
            Endpoint(KIND, n.phone_number_id, n.verified_name, n.display_phone_number)
            for n in WHATSAPP_NUMBERS
        ]

    def customer_id(self, value: str) -> str:
        value = re.sub(r"[\s()+-]", "", value)
        if not re.fullmatch(r"[1-9][0-9]{6,14}", value):
            raise ValueError(
                "A WhatsApp customer needs a phone number with its country code, like 15551234567."
            )
        return value

    def resolve(self, endpoint_id: str) -> tuple[Target | None, str]:
        number = whatsapp_number(endpoint_id)
        if subscription(AppSubscription.Owner.WABA, number.waba_id) is None:
            return None, (
                "The number's WhatsApp Business Account has not subscribed the app. Add the "
                "number as a WhatsApp channel in Octopods; Octopods then calls "
                "POST /{waba-id}/subscribed_apps."
            )
        # Meta's order: the number's override, then the WABA's, then the app's callback.
        for scope, owner in (
            (Webhook.Scope.WHATSAPP_NUMBER, endpoint_id),
            (Webhook.Scope.WHATSAPP_WABA, number.waba_id),
            (Webhook.Scope.META_APP, "whatsapp_business_account"),
        ):
            if found := webhook(scope, owner):
                return Target(found), ""
        return None, (
            "No callback URL: Octopods sets one for the number (webhook_configuration), or "
            "paste one into the Meta app dashboard."
        )

    def new_ids(self, conversation, content) -> tuple[str, str]:
        photo = content.type == "image"
        ref = str(secrets.randbelow(9 * 10**15) + 10**15) if photo else ""
        return graph.new_wamid(), ref

    def send(self, conversation, message, content, target) -> Outcome:
        item: dict = {
            "from": conversation.customer_id,
            "id": message.provider_message_id,
            "timestamp": str(unix(message.created_at)),
            "type": content.type,
        }
        if content.type == "text":
            item["text"] = {"body": content.text}
        elif content.type == "image":
            image = {
                "mime_type": media.PHOTO_MIME,
                "sha256": media.photo_sha256_base64(),
                "id": message.media_ref,
            }
            item["image"] = {"caption": content.text, **image} if content.text else image
        else:
            item["location"] = content.location
        value = {
            "contacts": [
                {
                    "profile": {"name": conversation.customer_name or conversation.customer_id},
                    "wa_id": conversation.customer_id,
                }
            ],
            "messages": [item],
        }
        return post_meta(target.webhook.url, _envelope(conversation, value))

    def post_receipts(self, conversation, waiting, state, target) -> Outcome:
        now = str(unix(timezone.now()))
        statuses = []
        for message in waiting:
            status = {
                "id": message.provider_message_id,
                "status": state,
                "timestamp": now,
                "recipient_id": conversation.customer_id,
            }
            if state == "delivered":
                template = message.content_type == "template"
                status["pricing"] = {
                    "billable": template,
                    "pricing_model": "PMP",
                    "category": "utility" if template else "service",
                }
            statuses.append(status)
        payload = _envelope(conversation, {"statuses": statuses})
        return post_meta(target.webhook.url, payload)


# --- pages of the phone and the index that only WhatsApp has --------------------------

# A Brazilian customer as WhatsApp reports an account older than the ninth digit
# (551187654321), known to the team as +55 11 98765-4321 (integrations/phone_identity.py).
BRAZILIAN = ("Joana Silva", "551187654321", "+5511987654321")


@require_POST
def brazilian(request):
    """Open a chat as the Brazilian customer, after giving every sandbox Intercom
    workspace her as a user with the number the team typed, so a person sees one contact
    and one conversation in the inbox, and the reply arriving on this phone."""
    name, wa_id, typed = BRAZILIAN
    endpoint = next(
        (
            e
            for e in customer.endpoints()
            if e.kind == KIND and customer.resolve(e.kind, e.id)[0] is not None
        ),
        None,
    )
    if endpoint is None:
        messages.error(request, "Add a WhatsApp channel in Octopods first.")
        return redirect("sandbox:phone")
    for workspace in INTERCOM_WORKSPACES:
        IntercomContact.objects.get_or_create(
            workspace=workspace.id_code, phone=typed, defaults={"name": name}
        )
    conversation, _ = Conversation.objects.get_or_create(
        kind=endpoint.kind,
        endpoint=endpoint.id,
        customer_id=wa_id,
        defaults={"customer_name": name},
    )
    messages.success(
        request,
        f"{name} writes from {wa_id} (WhatsApp's form without the ninth digit); the sandbox "
        f"Intercom knows her as {typed}.",
    )
    return redirect("sandbox:phone_conversation", pk=conversation.pk)


@require_POST
def template_status(request, waba_id):
    """Meta changes a template's status (as it pauses one for low quality)."""
    name, status = request.POST.get("name", ""), request.POST.get("status", "")
    known = {t["name"] for t in whatsapp_templates.catalog(waba_id)}
    if not any(n.waba_id == waba_id for n in WHATSAPP_NUMBERS) or name not in known:
        messages.error(request, "No such template.")
    elif status not in whatsapp_templates.STATUSES:
        messages.error(request, "Choose approved, paused or disabled.")
    else:
        whatsapp_templates.status_set(waba_id, name, status)
        messages.success(request, f"Template {name} is now {status.lower()} at Meta.")
    return redirect("sandbox:index")
