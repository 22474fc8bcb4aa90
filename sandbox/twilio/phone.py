"""An SMS chat on the customer phone: Twilio's incoming-message webhook (PROVIDERS.md
§4.1) to the number's SmsUrl, and a status callback per reply (§4.4)."""

import re

from .. import media
from ..customer import Endpoint, KindPhone, Target, webhook
from ..delivery import Outcome
from ..models import Message, Webhook
from . import api
from .api import KIND
from .directory import TWILIO_ACCOUNTS, twilio_number
from .webhooks import post_twilio


class TwilioPhone(KindPhone):
    kind = KIND
    customer_default = ("Pat Jones", "+15557654321")
    customer_id_help = "Phone number in E.164 (+ and digits)"
    receipts = ("delivered",)
    no_receipts = "SMS has no read receipts."
    locations = False
    no_locations = "SMS has no location messages"
    index_template = "sandbox/twilio/index.html"

    def index_context(self) -> dict:
        return {"twilio_accounts": TWILIO_ACCOUNTS}

    def endpoints(self) -> list[Endpoint]:
        return [
            Endpoint(KIND, n.sid, n.friendly_name, n.phone_number)
            for a in TWILIO_ACCOUNTS
            for n in a.numbers
        ]

    def customer_id(self, value: str) -> str:
        value = "+" + re.sub(r"[^0-9]", "", value) if value.startswith("+") else value
        if not re.fullmatch(r"\+[1-9][0-9]{6,14}", value):
            raise ValueError("An SMS customer needs a phone number like +15557654321.")
        return value

    def resolve(self, endpoint_id: str) -> tuple[Target | None, str]:
        found = webhook(Webhook.Scope.TWILIO_NUMBER, endpoint_id)
        if found is None:
            return None, (
                "This number has no SmsUrl. Add it as an SMS channel in Octopods (account "
                "SID, auth token and number); Octopods then sets the number's SmsUrl."
            )
        return Target(found), ""

    def new_ids(self, conversation, content) -> tuple[str, str]:
        photo = content.type == "image"
        return api.new_sid("MM" if photo else "SM"), api.new_sid("ME") if photo else ""

    def send(self, conversation, message, content, target) -> Outcome:
        account, number = twilio_number(conversation.endpoint)
        sid = message.provider_message_id
        photo = content.type == "image"
        params = [
            ("ToCountry", "US"),
            ("SmsMessageSid", sid),
            ("NumMedia", "1" if photo else "0"),
            ("SmsSid", sid),
            ("SmsStatus", "received"),
            ("Body", content.text),
            ("To", number.phone_number),
            ("NumSegments", "1"),
            ("MessageSid", sid),
            ("AccountSid", account.account_sid),
            ("From", conversation.customer_id),
            ("ApiVersion", api.API_VERSION),
        ]
        if photo:
            params += [
                ("MediaContentType0", media.PHOTO_MIME),
                ("MediaUrl0", api.media_url(account, message)),
            ]
        method = target.webhook.options.get("method", "POST")
        return post_twilio(target.webhook.url, params, auth_token=account.auth_token, method=method)

    def send_receipts(self, conversation, waiting, state) -> Outcome:
        """One status callback per message and status, to the StatusCallback its send
        named."""
        account, number = twilio_number(conversation.endpoint)
        results: list[str] = []
        failed = posted = False
        for message in waiting:
            if not message.status_callback:
                results.append(f"{message.provider_message_id}: its send named no StatusCallback")
                continue
            posted = True
            steps = (
                ["sent", "delivered"] if message.status in ("queued", "accepted") else ["delivered"]
            )
            for status in steps:
                params = [
                    ("SmsSid", message.provider_message_id),
                    ("SmsStatus", status),
                    ("MessageStatus", status),
                    ("To", conversation.customer_id),
                    ("MessageSid", message.provider_message_id),
                    ("AccountSid", account.account_sid),
                    ("From", number.phone_number),
                    ("ApiVersion", api.API_VERSION),
                ]
                if service := message.detail.get("messaging_service_sid"):
                    params.append(("MessagingServiceSid", service))
                outcome = post_twilio(
                    message.status_callback, params, auth_token=account.auth_token
                )
                results.append(f"{message.provider_message_id} {status}: {outcome.text}")
                if not outcome.ok:
                    failed = True
                    break
                Message.objects.filter(pk=message.pk).update(status=status)
        return Outcome(posted and not failed, " · ".join(results))
