"""The shared shape of a channel kind's typed credentials."""

from dataclasses import asdict, fields
from typing import ClassVar, Self


class ChannelCredentials:
    """Base for each kind's frozen ``Credentials`` dataclass.

    Every field is a required non-empty string; ids that arrive as JSON numbers (Graph
    ids, getMe's bot id) are kept as text. Declare secret fields with
    ``field(repr=False)`` so a logged object never prints them.
    """

    label: ClassVar[str]

    @classmethod
    def from_dict(cls, data: dict) -> Self:
        values = {}
        for name in (f.name for f in fields(cls)):
            value = data.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{cls.label} credentials are missing {name!r}")
            values[name] = value.strip()
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)
