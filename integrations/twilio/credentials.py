"""What a Twilio channel needs: the account that owns the number and the number."""

from dataclasses import dataclass, field

from ..credentials import ChannelCredentials


@dataclass(frozen=True)
class Credentials(ChannelCredentials):
    label = "Twilio"

    account_sid: str  # AC…; webhooks for this channel carry it as AccountSid
    # Twilio signs webhooks with the Auth Token of the account (a subaccount's own token
    # for a subaccount's numbers), so it doubles as the webhook secret.
    auth_token: str = field(repr=False)
    phone_number: str  # our sending number, E.164 (e.g. +14155550100)
    # The secret of a Twilio SharedKey, for webhooks a Webhook Rule has Twilio sign with
    # it instead of the Auth Token (X-Twilio-Webhooks-Signature-Settings); optional.
    webhook_shared_key: str = field(default="", repr=False)
