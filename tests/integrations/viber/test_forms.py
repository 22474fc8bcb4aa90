"""The add-channel form: the bot's auth token (Viber: More → Settings → Bots → Edit Info →
Your app key; https://developers.viber.com/docs/api/rest-bot-api/#authentication-token)."""

import pytest

from integrations.viber.adapter import ViberAdapter

TOKEN = "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9"

Form = ViberAdapter().form


def test_it_accepts_a_token_as_viber_shows_it():
    form = Form(data={"auth_token": f"  {TOKEN}\n"})

    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"auth_token": TOKEN}


@pytest.mark.parametrize("token", ["445da6az1s345z78 dazcczb2542zv51a", "  ", ""])
def test_it_refuses_what_is_not_a_token(token):
    form = Form(data={"auth_token": token})

    assert not form.is_valid()
    assert form.errors["auth_token"]


def test_it_never_renders_the_token_back():
    form = Form(data={"auth_token": TOKEN})

    assert TOKEN not in str(form["auth_token"])
