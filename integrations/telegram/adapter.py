import secrets

from ..channel import ChannelAdapter, ChannelIdentity
from . import webhooks
from .client import TelegramClient
from .credentials import Credentials
from .forms import TelegramForm


class TelegramAdapter(ChannelAdapter):
    kind = "telegram"
    label = "Telegram"
    identity_label = "Telegram bot"
    description = "A Telegram bot you created with @BotFather."
    Credentials = Credentials
    webhooks = webhooks
    manual_setup = False

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
