"""What a Telegram channel needs: the bot's token and the secret we gave setWebhook."""

import re
from dataclasses import dataclass, field

from ..credentials import ChannelCredentials

# setWebhook only accepts this alphabet and length for secret_token.
SECRET_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass(frozen=True)
class Credentials(ChannelCredentials):
    label = "Telegram"

    bot_token: str = field(repr=False)
    secret_token: str = field(repr=False)
    bot_id: str
    bot_username: str

    def __post_init__(self) -> None:
        if not SECRET_TOKEN_PATTERN.fullmatch(self.secret_token):
            raise ValueError(
                "Telegram credentials: secret_token must be 1-256 characters of A-Z a-z 0-9 _ -"
            )
