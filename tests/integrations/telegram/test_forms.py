import pytest

from integrations.registry import channel_adapter

TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

Form = channel_adapter("telegram").form


def test_it_accepts_a_token_as_botfather_gives_it():
    form = Form(data={"bot_token": f"  {TOKEN}\n"})

    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"bot_token": TOKEN}


@pytest.mark.parametrize(
    "token",
    [
        "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",  # the secret half only
        "acme_bot:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",  # a username, not the bot id
        "7000000001:short",
        "7000000001:AAHdqTcvCH1vGWJx fSeofSAs0K5PALDsaw",
        "bot7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",  # copied from a URL
    ],
)
def test_it_refuses_what_is_not_a_bot_token(token):
    form = Form(data={"bot_token": token})

    assert not form.is_valid()
    (error,) = form.errors["bot_token"]
    assert error.startswith("This does not look like a bot token: @BotFather gives digits")


def test_it_requires_the_token():
    form = Form(data={"bot_token": "  "})

    assert not form.is_valid()
    assert form.errors["bot_token"] == ["This field is required."]


def test_it_never_echoes_the_token_back_into_the_page():
    form = Form(data={"bot_token": TOKEN})

    html = str(form["bot_token"])

    assert 'type="password"' in html
    assert TOKEN not in html
    assert 'autocomplete="off"' in html


def test_it_says_where_to_get_the_token():
    assert "@BotFather" in Form().fields["bot_token"].help_text
