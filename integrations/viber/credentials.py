"""What a Viber channel needs: the bot's auth token, and the bot's id and name that
get_account_info gave at set-up (the name signs every message: send_message's
``sender.name``)."""

from dataclasses import dataclass, field

from ..credentials import ChannelCredentials


@dataclass(frozen=True)
class Credentials(ChannelCredentials):
    label = "Viber"

    auth_token: str = field(repr=False)
    bot_id: str
    bot_name: str
