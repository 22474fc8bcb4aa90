"""What a Twilio channel needs: the account that owns the number and the number."""

from dataclasses import asdict, dataclass, field, fields


@dataclass(frozen=True)
class Credentials:
    account_sid: str  # AC…; webhooks for this channel carry it as AccountSid
    # Twilio signs webhooks with the Auth Token of the account (a subaccount's own token
    # for a subaccount's numbers), so it doubles as the webhook secret.
    auth_token: str = field(repr=False)
    phone_number: str  # our sending number, E.164 (e.g. +14155550100)

    @classmethod
    def from_dict(cls, data: dict) -> "Credentials":
        values = {}
        for f in fields(cls):
            value = data.get(f.name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"Twilio credentials: missing field {f.name!r}")
            values[f.name] = value.strip()
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)
