from django import forms
from django.core.validators import RegexValidator

from ..forms import NO_SPACES, numeric_id_field, secret_input
from ..meta import app_secret_field


class WhatsAppForm(forms.Form):
    phone_number_id = numeric_id_field(
        label="Phone number ID",
        help_text="In the Meta app dashboard, WhatsApp → API Setup (or WhatsApp Manager → "
        "Phone numbers): the ID of the number, not the number itself.",
        example="106540352242922",
    )
    waba_id = numeric_id_field(
        label="WhatsApp Business Account ID",
        help_text="Shown beside the Phone number ID in WhatsApp → API Setup, and in "
        "WhatsApp Manager's account overview.",
        example="102290129340398",
    )
    access_token = forms.CharField(
        label="Access token",
        max_length=1000,
        help_text="A System User token (Business settings → Users → System users → "
        "Generate new token) with whatsapp_business_messaging and "
        "whatsapp_business_management, and this WhatsApp account assigned as an asset. "
        "The temporary token of API Setup expires within a day.",
        widget=secret_input(),
        validators=[RegexValidator(NO_SPACES, "An access token has no spaces in it.")],
    )
    app_secret = app_secret_field()
