"""What an Instagram channel needs: the linked Page, its token, the Instagram account,
and the Meta app's webhook secrets."""

from dataclasses import dataclass, field

from ..credentials import ChannelCredentials


@dataclass(frozen=True)
class Credentials(ChannelCredentials):
    """``instagram_account_id`` is the professional account's id (the ``entry.id`` and
    ``recipient.id`` of its webhooks); ``page_id`` the Facebook Page it is linked to,
    whose ``page_access_token`` sends and subscribes. ``app_secret`` signs Meta's webhook
    POSTs; ``verify_token`` is the string we chose for the GET handshake."""

    label = "Instagram"

    page_id: str
    instagram_account_id: str
    page_access_token: str = field(repr=False)
    app_secret: str = field(repr=False)
    verify_token: str = field(repr=False)
    username: str = ""
