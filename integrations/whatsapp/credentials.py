"""What a WhatsApp channel needs to be reached and to trust its webhooks."""

from dataclasses import dataclass, field

from ..credentials import ChannelCredentials


@dataclass(frozen=True)
class Credentials(ChannelCredentials):
    """``phone_number_id`` is the business number's Graph id (the sender of our messages
    and the ``metadata.phone_number_id`` of its webhooks); ``app_secret`` signs Meta's
    webhook POSTs; ``verify_token`` is the string we chose for the GET handshake."""

    label = "WhatsApp"

    phone_number_id: str
    waba_id: str
    access_token: str = field(repr=False)
    app_secret: str = field(repr=False)
    verify_token: str = field(repr=False)
