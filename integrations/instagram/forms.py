from django import forms
from django.core.validators import RegexValidator

from ..forms import NO_SPACES, numeric_id_field, secret_input
from ..meta import app_secret_field


class InstagramForm(forms.Form):
    page_id = numeric_id_field(
        label="Page ID",
        help_text="The Facebook Page linked to the Instagram professional account: on the "
        "Page, About → Page transparency, or in Meta Business Suite → Settings → Page. "
        "Octopods reads the Instagram account from it.",
        example="104958162837465",
    )
    page_access_token = forms.CharField(
        label="Page access token",
        max_length=1000,
        help_text="A Page access token for that Page (Meta app dashboard → Messenger → "
        "Instagram settings → Access tokens, or the Graph API Explorer). The app needs "
        "instagram_basic, instagram_manage_messages, pages_manage_metadata and "
        "pages_show_list.",
        widget=secret_input(),
        validators=[RegexValidator(NO_SPACES, "A Page access token has no spaces in it.")],
    )
    app_secret = app_secret_field()
