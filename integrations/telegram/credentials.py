"""What a Telegram channel needs: the bot's token and the secret we gave setWebhook."""

import re
from dataclasses import asdict, dataclass, field

# setWebhook only accepts this alphabet and length for secret_token.
SECRET_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass(frozen=True)
class Credentials:
    # Secrets stay out of repr so a logged or failing object never prints them.
    bot_token: str = field(repr=False)
    secret_token: str = field(repr=False)
    bot_id: str
    bot_username: str

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, str) or not value:
                raise ValueError(f"Telegram credentials: {name} must be a non-empty string")
        if not SECRET_TOKEN_PATTERN.fullmatch(self.secret_token):
            raise ValueError(
                "Telegram credentials: secret_token must be 1-256 characters of A-Z a-z 0-9 _ -"
            )

    @classmethod
    def from_dict(cls, data: dict) -> "Credentials":
        values = {}
        for name in ("bot_token", "secret_token", "bot_id", "bot_username"):
            value = data.get(name)
            if value is None or value == "":
                raise ValueError(f"Telegram credentials: missing {name}")
            # getMe returns the bot's id as a JSON number; we keep ids as text.
            if name == "bot_id" and isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            values[name] = value
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)
