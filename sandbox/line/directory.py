"""LINE's fake Official Accounts (Messaging API channels), for Add channel and the phone.

Credentials a developer pastes into Add channel; the stand-in API accepts these and
refuses anything else with LINE's own error shape.
"""

import hmac
from dataclasses import dataclass


@dataclass(frozen=True)
class LineAccount:
    # The long-lived channel access token (Messaging API tab) and the channel secret
    # (Basic settings tab: 32 hex digits), as the LINE Developers Console shows them.
    channel_access_token: str
    channel_secret: str
    # The bot's user id: "U" and 32 hex digits, the ``destination`` of its webhooks.
    user_id: str
    basic_id: str
    display_name: str
    # The plan's monthly push allowance (GET /v2/bot/message/quota); None: no limit.
    monthly_limit: int | None = None


LINE_ACCOUNTS: tuple[LineAccount, ...] = (
    LineAccount(
        channel_access_token="sandboxLineAcmeSupportChannelAccessToken0001=",
        channel_secret="0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        user_id="U1a2b3c4d5e6f708192a3b4c5d6e7f801",
        basic_id="@acme-support",
        display_name="Acme Support",
    ),
    # A free plan nearly used up: its second push of the month is refused, so the
    # agent's note about LINE's monthly limit can be seen.
    LineAccount(
        channel_access_token="sandboxLineGlobexHelpChannelAccessToken0002=",
        channel_secret="f9e8d7c6b5a4938271605f4e3d2c1b0a",
        user_id="U9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        basic_id="@globex-help",
        display_name="Globex Help (1 push a month)",
        monthly_limit=1,
    ),
)


def line_account(token: str) -> LineAccount | None:
    return next(
        (
            a
            for a in LINE_ACCOUNTS
            if hmac.compare_digest(a.channel_access_token.encode(), token.encode())
        ),
        None,
    )


def line_account_by_user_id(user_id: str) -> LineAccount | None:
    return next((a for a in LINE_ACCOUNTS if a.user_id == user_id), None)
