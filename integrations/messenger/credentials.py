"""What a Messenger channel needs to be reached and to trust its webhooks."""

from dataclasses import asdict, dataclass, field, fields


@dataclass(frozen=True)
class Credentials:
    """``page_id`` is the Facebook Page's Graph id (``entry[].id`` and ``recipient.id``
    of its webhooks); ``page_access_token`` sends as the Page; ``app_secret`` signs Meta's
    webhook POSTs; ``verify_token`` is the string we chose for the GET handshake."""

    page_id: str
    # Secrets stay out of repr() so a logged Credentials never leaks them.
    page_access_token: str = field(repr=False)
    app_secret: str = field(repr=False)
    verify_token: str = field(repr=False)

    @classmethod
    def from_dict(cls, data: dict) -> "Credentials":
        values = {}
        for name in (f.name for f in fields(cls)):
            value = data.get(name)
            # Page ids are numeric strings, but a hand-written config may hold a number.
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str) or not value:
                raise ValueError(f"Messenger credentials are missing {name!r}")
            values[name] = value
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)
