from django import forms
from django.core.validators import RegexValidator

from ..forms import NO_SPACES, secret_input

# The channel secret is 32 hexadecimal digits (LINE Developers Console, Basic settings).
_HEX32 = r"^[0-9A-Fa-f]{32}$"


class LineForm(forms.Form):
    channel_access_token = forms.CharField(
        label="Channel access token (long-lived)",
        max_length=1000,
        help_text=(
            "In the LINE Developers Console, open your provider, then the Messaging API "
            "channel of your LINE Official Account, the Messaging API tab, and at the bottom "
            "Channel access token (long-lived): Issue, then copy it here."
        ),
        widget=secret_input(),
        validators=[
            RegexValidator(
                NO_SPACES,
                "A channel access token has no spaces: copy it again from the Messaging API tab.",
            )
        ],
    )
    channel_secret = forms.CharField(
        label="Channel secret",
        max_length=64,
        help_text=(
            "On the same channel's Basic settings tab: Channel secret. LINE signs every "
            "message it sends Octopods with it."
        ),
        widget=secret_input(),
        validators=[
            RegexValidator(
                _HEX32,
                "This does not look like a channel secret: LINE shows 32 letters a-f and "
                "digits on the Basic settings tab.",
            )
        ],
    )
