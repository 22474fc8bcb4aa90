from django import forms
from django.core.validators import RegexValidator

_DIGITS = r"^\d+$"
_HEX32 = r"^[0-9a-fA-F]{32}$"
_NO_SPACES = r"^\S+$"


def _secret_input() -> forms.PasswordInput:
    # Never rendered back into the page: a failed attempt asks for it again.
    return forms.PasswordInput(
        render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}
    )


def _id_input() -> forms.TextInput:
    return forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"})


class WhatsAppForm(forms.Form):
    phone_number_id = forms.CharField(
        label="Phone number ID",
        max_length=32,
        help_text="In the Meta app dashboard, WhatsApp → API Setup (or WhatsApp Manager → "
        "Phone numbers): the ID of the number, not the number itself.",
        widget=_id_input(),
        validators=[
            RegexValidator(_DIGITS, "A Phone number ID is digits only, like 106540352242922.")
        ],
    )
    waba_id = forms.CharField(
        label="WhatsApp Business Account ID",
        max_length=32,
        help_text="Shown beside the Phone number ID in WhatsApp → API Setup, and in "
        "WhatsApp Manager's account overview.",
        widget=_id_input(),
        validators=[
            RegexValidator(
                _DIGITS, "A WhatsApp Business Account ID is digits only, like 102290129340398."
            )
        ],
    )
    access_token = forms.CharField(
        label="Access token",
        max_length=1000,
        help_text="A System User token (Business settings → Users → System users → "
        "Generate new token) with whatsapp_business_messaging and "
        "whatsapp_business_management, and this WhatsApp account assigned as an asset. "
        "The temporary token of API Setup expires within a day.",
        widget=_secret_input(),
        validators=[RegexValidator(_NO_SPACES, "An access token has no spaces in it.")],
    )
    app_secret = forms.CharField(
        label="App secret",
        max_length=32,
        help_text="In the Meta app dashboard, App settings → Basic → App secret (Show). "
        "Meta signs the messages it sends us with it.",
        widget=_secret_input(),
        validators=[RegexValidator(_HEX32, "An App secret is 32 characters of 0-9 and a-f.")],
    )
