import pytest

from integrations.registry import channel_adapter

TOKEN = "EAAsandboxWhatsAppAcmeAccessToken0001"
APP_SECRET = "5b1f0c1e8d2a4e6f9a0b3c4d5e6f7a8b"
VALID = {
    "phone_number_id": "100000000000001",
    "waba_id": "200000000000001",
    "access_token": TOKEN,
    "app_secret": APP_SECRET,
}

Form = channel_adapter("whatsapp").form


def form_with(**changes):
    return Form(data={**VALID, **changes})


def test_it_accepts_the_four_credentials_with_stray_spaces_trimmed():
    form = form_with(phone_number_id=" 100000000000001 ", access_token=f"{TOKEN}\n")

    assert form.is_valid(), form.errors
    assert form.cleaned_data == VALID


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "phone_number_id",
            "+1 555-000-1111",
            "A Phone number ID is digits only, like 106540352242922.",
        ),
        (
            "waba_id",
            "waba-200",
            "A WhatsApp Business Account ID is digits only, like 102290129340398.",
        ),
        ("access_token", "EAAsandbox WhatsApp", "An access token has no spaces in it."),
        ("app_secret", "not-the-secret", "An App secret is 32 characters of 0-9 and a-f."),
        ("app_secret", APP_SECRET[:-1] + "z", "An App secret is 32 characters of 0-9 and a-f."),
    ],
)
def test_it_explains_each_malformed_credential(field, value, message):
    form = form_with(**{field: value})

    assert not form.is_valid()
    assert form.errors == {field: [message]}


def test_it_requires_every_field():
    form = Form(data={})

    assert not form.is_valid()
    assert set(form.errors) == set(VALID)


def test_it_never_echoes_the_secrets_back_into_the_page():
    form = form_with()

    for name, secret in (("access_token", TOKEN), ("app_secret", APP_SECRET)):
        html = str(form[name])
        assert 'type="password"' in html
        assert secret not in html


def test_it_says_which_token_and_permissions_to_use():
    help_text = Form().fields["access_token"].help_text

    assert "System User" in help_text
    assert "whatsapp_business_messaging" in help_text
    assert "whatsapp_business_management" in help_text
    assert "App settings → Basic" in Form().fields["app_secret"].help_text
