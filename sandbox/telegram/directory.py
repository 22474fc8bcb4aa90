"""Telegram's fake bots, for Add channel and the customer phone."""

import hmac
from dataclasses import dataclass

# Credentials a developer pastes into Add channel; the sandbox's provider APIs accept
# these and refuse anything else with the provider's own error shape.


@dataclass(frozen=True)
class TelegramBot:
    token: str  # "<bot id>:<secret>", as BotFather gives it
    first_name: str
    username: str

    @property
    def id(self) -> int:
        return int(self.token.split(":", 1)[0])


TELEGRAM_BOTS: tuple[TelegramBot, ...] = (
    TelegramBot(
        "7000000001:AAHsandbox-acme-support-bot-token01", "Acme Support", "acme_support_bot"
    ),
    TelegramBot("7000000002:AAHsandbox-globex-help-bot-token002", "Globex Help", "globex_help_bot"),
)


def telegram_bot(token: str) -> TelegramBot | None:
    return next(
        (b for b in TELEGRAM_BOTS if hmac.compare_digest(b.token.encode(), token.encode())), None
    )


def telegram_bot_by_id(bot_id: str) -> TelegramBot | None:
    return next((b for b in TELEGRAM_BOTS if str(b.id) == bot_id), None)
