import secrets

from ..base import ProviderError
from ..channel import ChannelAdapter, ChannelIdentity
from . import webhooks
from .client import WhatsAppClient
from .credentials import Credentials
from .forms import WhatsAppForm


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
    approved_templates = True

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
        # Deliberately nothing. How to remove a number's override is not documented in
        # what we could confirm, and unsubscribing the app from the WABA would cut off
        # its other numbers, which may be channels of their own. Meta keeps calling the
        # removed channel's URL, which answers 404 (its key no longer exists) and stores
        # nothing; connecting the number again replaces the override.
        return None
