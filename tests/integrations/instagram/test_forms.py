import pytest

from integrations.instagram.adapter import InstagramAdapter

TOKEN = "EAAsandboxInstagramAcmePageToken00001"
APP_SECRET = "5b1f0c1e8d2a4e6f9a0b3c4d5e6f7a8b"
VALID = {"page_id": "134895793791914", "page_access_token": TOKEN, "app_secret": APP_SECRET}

Form = InstagramAdapter().form


def form_with(**changes):
    return Form(data={**VALID, **changes})


def test_it_accepts_the_page_s_credentials_with_stray_spaces_trimmed():
    form = form_with(page_id=" 134895793791914", app_secret=f"{APP_SECRET} ")

    assert form.is_valid(), form.errors
    assert form.cleaned_data == VALID


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("page_id", "@acme.shop", "A Page ID is digits only, like 104958162837465."),
        ("page_access_token", "EAA sandbox", "A Page access token has no spaces in it."),
        ("app_secret", "abc123", "An App secret is 32 characters of 0-9 and a-f."),
    ],
)
def test_it_explains_each_malformed_credential(field, value, message):
    form = form_with(**{field: value})

    assert not form.is_valid()
    assert form.errors == {field: [message]}


def test_it_requires_every_field():
    assert set(Form(data={}).errors) == set(VALID)


def test_it_never_echoes_the_secrets_back_into_the_page():
    form = form_with()

    for name, secret in (("page_access_token", TOKEN), ("app_secret", APP_SECRET)):
        html = str(form[name])
        assert 'type="password"' in html
        assert secret not in html


def test_it_says_which_permissions_the_page_token_needs():
    help_text = Form().fields["page_access_token"].help_text

    assert "instagram_manage_messages" in help_text
    assert "pages_manage_metadata" in help_text
