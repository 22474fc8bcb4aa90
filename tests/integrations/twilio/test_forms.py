import pytest

from integrations.registry import channel_adapter

SID = "AC5a0d1e2f3a4b5c6d7e8f90a1b2c3d4e5"
AUTH = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"

Form = channel_adapter("sms").form


def form_with(**changes):
    data = {"account_sid": SID, "auth_token": AUTH, "phone_number": "+15550002222", **changes}
    return Form(data=data)


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("+1 555 000 2222", "+15550002222"),
        ("+1 (555) 000-2222", "+15550002222"),
        ("+15550002222", "+15550002222"),
        ("+44 7700 900222", "+447700900222"),
        ("+44 (0)7700 900222", "+447700900222"),
        ("0044 7700 900222", "+447700900222"),
    ],
)
def test_it_normalises_the_number_to_e164(typed, e164):
    form = form_with(phone_number=typed)

    assert form.is_valid(), form.errors
    assert form.cleaned_data == {
        "account_sid": SID,
        "auth_token": AUTH,
        "phone_number": e164,
        "webhook_shared_key": "",
    }


def test_it_takes_an_optional_webhook_shared_key_without_spaces():
    assert form_with(webhook_shared_key="whsk_abc123").is_valid()
    form = form_with(webhook_shared_key="two words")
    assert not form.is_valid()
    assert form.errors["webhook_shared_key"] == ["A shared key's secret has no spaces."]


@pytest.mark.parametrize("typed", ["555 000 2222", "(555) 000-2222", "5550002222"])
def test_it_refuses_a_number_without_its_country_code(typed):
    form = form_with(phone_number=typed)

    assert not form.is_valid()
    assert form.errors["phone_number"] == [
        "Include the country code, starting with + (for example +1 555 000 2222)."
    ]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("+1 555", "This number has too few or too many digits for its country code."),
        ("+hello", "This is not a phone number we can read."),
        ("+999 555 0002", "This is not a phone number we can read."),
    ],
)
def test_it_refuses_what_is_not_a_phone_number(typed, message):
    form = form_with(phone_number=typed)

    assert not form.is_valid()
    (error,) = form.errors["phone_number"]
    assert error.startswith(message)


@pytest.mark.parametrize(
    "sid",
    [
        "5a0d1e2f3a4b5c6d7e8f90a1b2c3d4e5",  # without AC
        "PN5a0d1e2f3a4b5c6d7e8f90a1b2c3d4e5",  # a number's sid
        "AC5a0d1e2f3a4b5c6d7e8f90a1b2c3d4",
        "AC5a0d1e2f3a4b5c6d7e8f90a1b2c3d4zz",
    ],
)
def test_it_refuses_what_is_not_an_account_sid(sid):
    form = form_with(account_sid=sid)

    assert not form.is_valid()
    (error,) = form.errors["account_sid"]
    assert error == "An Account SID is AC followed by 32 characters of 0-9 and a-f."


@pytest.mark.parametrize("token", ["9f8e7d6c5b4a3928", "9f8e7d6c5b4a39281706f5e4d3c2b1zz"])
def test_it_refuses_what_is_not_an_auth_token(token):
    form = form_with(auth_token=token)

    assert not form.is_valid()
    (error,) = form.errors["auth_token"]
    assert error.startswith("An Auth Token is 32 characters of 0-9 and a-f.")


def test_it_requires_every_field():
    form = Form(data={})

    assert not form.is_valid()
    assert set(form.errors) == {"account_sid", "auth_token", "phone_number"}


def test_it_never_echoes_the_auth_token_back_into_the_page():
    html = str(form_with()["auth_token"])

    assert 'type="password"' in html
    assert AUTH not in html
