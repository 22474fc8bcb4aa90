"""The customer phone is the same for every kind: what differs is the kind's
``KindPhone`` in its provider's package (README, "Adding a channel kind"). The phone's
own files name no kind (comments and docstrings aside)."""

import re
from pathlib import Path

from sandbox.kinds import KINDS
from tests.integrations.test_adding_a_kind import _code

ROOT = Path(__file__).resolve().parents[2]
GENERIC = [
    "sandbox/customer.py",
    "sandbox/delivery.py",
    "sandbox/phone.py",
    "sandbox/urls.py",
    "sandbox/views.py",
    "sandbox/templates/sandbox/phone_conversation.html",
]


def _words() -> set[str]:
    # Each kind and its label ("Twilio SMS": both words), not the provider packages'
    # names ("meta" is a CSS class too).
    labels = {word for label, _ in KINDS.values() for word in label.lower().split()}
    return set(KINDS) | labels


def test_the_phone_names_no_kind():
    named = [
        f"{path} names {word!r}"
        for path in GENERIC
        for word in _words()
        if re.search(rf"(?<![a-z_]){re.escape(word)}(?![a-z_])", _code(ROOT / path).lower())
    ]
    assert not named, "\n".join(named)
