"""Viber's fake bots, for Add channel and the customer phone."""

import hmac
from dataclasses import dataclass

# Credentials a developer pastes into Add channel; the sandbox's provider API accepts
# these and refuses anything else as Viber does (status 2, invalidAuthToken).


@dataclass(frozen=True)
class ViberBot:
    id: str  # "pa:" and digits, as get_account_info gives it
    name: str
    uri: str
    auth_token: str  # the bot's "app key"; also signs the sandbox's callbacks


VIBER_BOTS: tuple[ViberBot, ...] = (
    ViberBot(
        "pa:5000000000000000001",
        "Acme Support",
        "acmesupport",
        "4f1a5e0c2b7d9a31-8c6e2f4a1b3d5e70-sandboxacme0001",
    ),
    ViberBot(
        "pa:5000000000000000002",
        "Globex Help",
        "globexhelp",
        "4f1a5e0c2b7d9a32-8c6e2f4a1b3d5e71-sandboxglobex02",
    ),
)


def viber_bot(auth_token: str) -> ViberBot | None:
    return next(
        (b for b in VIBER_BOTS if hmac.compare_digest(b.auth_token.encode(), auth_token.encode())),
        None,
    )


def viber_bot_by_id(bot_id: str) -> ViberBot | None:
    return next((b for b in VIBER_BOTS if b.id == bot_id), None)
