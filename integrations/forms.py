"""Widgets and field shapes the channel kinds' set-up forms share."""

from django import forms
from django.core.validators import RegexValidator

DIGITS = r"^\d+$"
NO_SPACES = r"^\S+$"


def secret_input() -> forms.PasswordInput:
    # Never rendered back into the page: a failed attempt asks for it again.
    return forms.PasswordInput(
        render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}
    )


def id_input() -> forms.TextInput:
    return forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"})


def numeric_id_field(*, label: str, help_text: str, example: str) -> forms.CharField:
    """A provider's numeric object id (Graph ids: a Page, a number, a business account)."""
    return forms.CharField(
        label=label,
        max_length=32,
        help_text=help_text,
        widget=id_input(),
        validators=[RegexValidator(DIGITS, f"A {label} is digits only, like {example}.")],
    )
