from django import forms
from django.core.validators import RegexValidator

from ..forms import NO_SPACES, secret_input


class ViberForm(forms.Form):
    # Viber documents the token only as "a unique and secret account identifier"
    # (its examples look like 445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9), so
    # only spaces are refused here; get_account_info is the real check.
    auth_token = forms.CharField(
        label="Auth token",
        max_length=200,
        help_text=(
            "In Viber, open your bot's chat, then More → Settings → Bots → Edit Info, and "
            "copy “Your app key” (Viber also calls it the authentication token). Admins "
            "also find it on the Viber Admin Panel."
        ),
        widget=secret_input(),
        validators=[
            RegexValidator(
                NO_SPACES,
                "This does not look like a Viber auth token: it has no spaces. Copy it "
                "again from your bot's Edit Info screen (Your app key).",
            )
        ],
    )
