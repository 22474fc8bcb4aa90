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


class MessengerForm(forms.Form):
    page_id = forms.CharField(
        label="Page ID",
        max_length=32,
        help_text="The Facebook Page's ID: on the Page, About → Page transparency, or in "
        "Meta Business Suite → Settings → Page.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        validators=[RegexValidator(_DIGITS, "A Page ID is digits only, like 104958162837465.")],
    )
    page_access_token = forms.CharField(
        label="Page access token",
        max_length=1000,
        help_text="Meta app dashboard → Messenger → Settings → Access tokens → Generate "
        "token for this Page. The app needs pages_messaging and pages_manage_metadata.",
        widget=_secret_input(),
        validators=[RegexValidator(_NO_SPACES, "A Page access token has no spaces in it.")],
    )
    app_secret = forms.CharField(
        label="App secret",
        max_length=32,
        help_text="In the Meta app dashboard, App settings → Basic → App secret (Show). "
        "Meta signs the messages it sends us with it.",
        widget=_secret_input(),
        validators=[RegexValidator(_HEX32, "An App secret is 32 characters of 0-9 and a-f.")],
    )
