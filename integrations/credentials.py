"""The shared shape of a channel kind's typed credentials."""

from dataclasses import MISSING, fields
from typing import ClassVar, Self


class ChannelCredentials:
    """Base for each kind's frozen ``Credentials`` dataclass.

    Every field is a required non-empty string, except one declared with a default
    ("" for an optional setting, e.g. Twilio's webhook shared key): that one may be
    missing or empty, and is left out of ``to_dict`` while it holds its default, so rows
    stored before it existed read back unchanged. Ids that arrive as JSON numbers (Graph
    ids, getMe's bot id) are kept as text. Declare secret fields with
    ``field(repr=False)`` so a logged object never prints them.
    """

    label: ClassVar[str]

    @classmethod
    def from_dict(cls, data: dict) -> Self:
        values = {}
        for spec in fields(cls):
            name, optional = spec.name, spec.default is not MISSING
            value = data.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if optional and (value is None or value == ""):
                continue
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{cls.label} credentials are missing {name!r}")
            values[name] = value.strip()
        return cls(**values)

    def to_dict(self) -> dict:
        return {
            spec.name: getattr(self, spec.name)
            for spec in fields(self)
            if spec.default is MISSING or getattr(self, spec.name) != spec.default
        }
