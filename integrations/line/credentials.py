"""What a LINE channel needs: the channel's long-lived access token (every API call)
and its channel secret (the key LINE signs webhooks with), plus the bot's ids."""

from dataclasses import dataclass, field

from ..credentials import ChannelCredentials


@dataclass(frozen=True)
class Credentials(ChannelCredentials):
    label = "LINE"

    channel_access_token: str = field(repr=False)
    channel_secret: str = field(repr=False)
    # The bot's user id ("U" and 32 hex digits): the ``destination`` of its webhooks.
    bot_user_id: str
    # The @-id customers search for the account by (GET /v2/bot/info ``basicId``).
    basic_id: str
