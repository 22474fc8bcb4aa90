from django import forms
from django.core.validators import RegexValidator

from ..forms import NO_SPACES, numeric_id_field, secret_input
from ..meta import app_secret_field


class MessengerForm(forms.Form):
    page_id = numeric_id_field(
        label="Page ID",
        help_text="The Facebook Page's ID: on the Page, About → Page transparency, or in "
        "Meta Business Suite → Settings → Page.",
        example="104958162837465",
    )
    page_access_token = forms.CharField(
        label="Page access token",
        max_length=1000,
        help_text="Meta app dashboard → Messenger → Settings → Access tokens → Generate "
        "token for this Page. The app needs pages_messaging and pages_manage_metadata.",
        widget=secret_input(),
        validators=[RegexValidator(NO_SPACES, "A Page access token has no spaces in it.")],
    )
    app_secret = app_secret_field()
