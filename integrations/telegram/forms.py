from django import forms
from django.core.validators import RegexValidator

from ..forms import secret_input

# "<bot id>:<secret>", as @BotFather prints it; the secret part is 35 characters today.
_BOTFATHER_SHAPE = r"^\d+:[A-Za-z0-9_-]{30,}$"


class TelegramForm(forms.Form):
    bot_token = forms.CharField(
        label="Bot token",
        max_length=200,
        help_text=(
            "In Telegram, open @BotFather, send /newbot (or /mybots and pick your bot, then "
            "API Token) and paste the token it gives you, like 123456789:AAH…"
        ),
        widget=secret_input(),
        validators=[
            RegexValidator(
                _BOTFATHER_SHAPE,
                "This does not look like a bot token: @BotFather gives digits, a colon and "
                "about 35 letters, digits, _ or -, like 123456789:AAH…",
            )
        ],
    )
