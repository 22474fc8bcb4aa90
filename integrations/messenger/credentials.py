"""What a Messenger channel needs: the Page, its token, and the app's webhook secrets."""

from dataclasses import dataclass, field

from ..credentials import ChannelCredentials


@dataclass(frozen=True)
class Credentials(ChannelCredentials):
    """``app_secret`` signs Meta's webhook POSTs; ``verify_token`` is the string we
    chose for the GET handshake."""

    label = "Messenger"

    page_id: str
    page_access_token: str = field(repr=False)
    app_secret: str = field(repr=False)
    verify_token: str = field(repr=False)
