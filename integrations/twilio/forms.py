import phonenumbers
from django import forms
from django.core.validators import RegexValidator

from ..forms import secret_input

_ACCOUNT_SID_SHAPE = r"^AC[0-9a-fA-F]{32}$"
_AUTH_SHAPE = r"^[0-9a-fA-F]{32}$"


def e164(value: str) -> str:
    """A number as a person types it ("+1 555 000 2222", "+44 (0)7700 900222") → E.164.

    Raises ValidationError for anything without a country code: a Twilio number has
    one, and guessing a country would silently pick the wrong number.
    """
    text = value.strip()
    if not text.startswith(("+", "00")):
        raise forms.ValidationError(
            "Include the country code, starting with + (for example +1 555 000 2222).",
            code="no_country_code",
        )
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise forms.ValidationError(
            "This is not a phone number we can read. Type it with its country code, "
            "for example +1 555 000 2222.",
            code="unreadable",
        ) from None
    if not phonenumbers.is_possible_number(number):
        raise forms.ValidationError(
            "This number has too few or too many digits for its country code.",
            code="impossible",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class TwilioForm(forms.Form):
    account_sid = forms.CharField(
        label="Account SID",
        max_length=34,
        help_text="In the Twilio Console, Account Info: starts with AC.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        validators=[
            RegexValidator(
                _ACCOUNT_SID_SHAPE,
                "An Account SID is AC followed by 32 characters of 0-9 and a-f.",
            )
        ],
    )
    auth_token = forms.CharField(
        label="Auth Token",
        max_length=32,
        help_text="Next to the Account SID in Account Info (click Show). It also signs "
        "the messages Twilio sends us.",
        widget=secret_input(),
        validators=[RegexValidator(_AUTH_SHAPE, "An Auth Token is 32 characters of 0-9 and a-f.")],
    )
    phone_number = forms.CharField(
        label="Twilio phone number",
        max_length=40,
        help_text="The number customers text, with its country code, e.g. +1 555 000 2222.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )

    webhook_shared_key = forms.CharField(
        label="Webhook shared key (optional)",
        required=False,
        max_length=256,
        help_text="Only if a Twilio Webhook Rule signs this number's webhooks with a "
        "SharedKey instead of the Auth Token: the key's secret, as Twilio showed it when "
        "the key was created.",
        widget=secret_input(),
        validators=[RegexValidator(r"^\S+$", "A shared key's secret has no spaces.")],
    )

    def clean_phone_number(self) -> str:
        return e164(self.cleaned_data["phone_number"])
