"""What a WhatsApp channel needs to be reached and to trust its webhooks."""

from dataclasses import asdict, dataclass, field, fields


@dataclass(frozen=True)
class Credentials:
    """``phone_number_id`` is the business number's Graph id (the sender of our messages
    and the ``metadata.phone_number_id`` of its webhooks); ``app_secret`` signs Meta's
    webhook POSTs; ``verify_token`` is the string we chose for the GET handshake."""

    phone_number_id: str
    waba_id: str
    # Secrets stay out of repr() so a logged Credentials never leaks them.
    access_token: str = field(repr=False)
    app_secret: str = field(repr=False)
    verify_token: str = field(repr=False)

    @classmethod
    def from_dict(cls, data: dict) -> "Credentials":
        values = {}
        for name in (f.name for f in fields(cls)):
            value = data.get(name)
            # Graph ids are numeric strings, but a hand-written or older config may hold
            # them as JSON numbers.
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str) or not value:
                raise ValueError(f"WhatsApp credentials are missing {name!r}")
            values[name] = value
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)
