"""Viber's REST bot API at the HTTP level: https://developers.viber.com/docs/api/rest-bot-api/
(get_account_info, set_webhook, send_message, Error Codes) and
https://creators.viber.com/docs/bots-api/errors."""

import json

import pytest
import requests

from integrations.base import ProviderError
from integrations.channel import ChannelIdentity, OutboundMessage
from integrations.viber.adapter import ViberAdapter
from integrations.viber.client import api_url
from integrations.viber.credentials import Credentials

TOKEN = "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9"
HOOK = "https://bridge.example.com/hooks/viber/chn_3f9a1c2b7d/"
CREDENTIALS = Credentials(auth_token=TOKEN, bot_id="pa:5083915049473459744", bot_name="Acme")
ACCOUNT = {
    "status": 0,
    "status_message": "ok",
    "id": "pa:5083915049473459744",
    "name": "Acme Support",
    "uri": "acmesupport",
    "icon": "https://example.com/icon.jpg",
    "category": "Shopping",
    "country": "UK",
    "webhook": "",
    "event_types": [],
    "subscribers_count": 35,
}

adapter = ViberAdapter()


def api(method: str) -> str:
    return f"{api_url()}/{method}"


def sent(call) -> dict:
    return json.loads(call.request.body)


def refusal(status: int, status_message: str) -> dict:
    return {"status": status, "status_message": status_message}


# --- get_account_info (identify) ---------------------------------------------------------


def test_it_identifies_the_bot_with_get_account_info(mocked):
    """Get Account Info: id and name of the bot; the token goes in X-Viber-Auth-Token."""
    mocked.post(api("get_account_info"), json=ACCOUNT)

    found = adapter.identify(data={"auth_token": TOKEN})

    assert found == ChannelIdentity(
        identity="pa:5083915049473459744",
        name="Acme Support",
        credentials={
            "auth_token": TOKEN,
            "bot_id": "pa:5083915049473459744",
            "bot_name": "Acme Support",
        },
    )
    (call,) = mocked.calls
    assert call.request.headers["X-Viber-Auth-Token"] == TOKEN
    assert TOKEN not in call.request.url


def test_a_bad_token_is_refused_on_the_token_field(mocked):
    """Error Codes: 2 invalidAuthToken (answered with HTTP 200)."""
    mocked.post(api("get_account_info"), json=refusal(2, "invalidAuthToken"))

    with pytest.raises(ProviderError) as caught:
        adapter.identify(data={"auth_token": "wrong"})

    error = caught.value
    assert error.field == "auth_token"
    assert error.unauthorized and error.permanent
    assert "Your app key" in error.message


def test_an_answer_without_the_bots_id_is_not_read(mocked):
    mocked.post(api("get_account_info"), json={"status": 0, "status_message": "ok"})

    with pytest.raises(ProviderError, match="could not read") as caught:
        adapter.identify(data={"auth_token": TOKEN})
    assert not caught.value.permanent


# --- set_webhook ---------------------------------------------------------------------------


def test_register_sets_the_webhook_with_the_events_we_handle(mocked):
    """Setting a Webhook: url, event_types, send_name, send_photo."""
    mocked.post(api("set_webhook"), json={"status": 0, "status_message": "ok", "event_types": []})

    adapter.register_webhook(credentials=CREDENTIALS, webhook_url=HOOK)

    (call,) = mocked.calls
    assert call.request.headers["X-Viber-Auth-Token"] == TOKEN
    assert sent(call) == {
        "url": HOOK,
        "event_types": [
            "delivered",
            "seen",
            "failed",
            "subscribed",
            "unsubscribed",
            "conversation_started",
        ],
        "send_name": True,
        "send_photo": False,
    }


def test_unregister_sets_an_empty_webhook(mocked):
    """Removing your webhook: set_webhook with url ""."""
    mocked.post(api("set_webhook"), json={"status": 0, "status_message": "ok"})

    adapter.unregister_webhook(credentials=CREDENTIALS)

    (call,) = mocked.calls
    assert sent(call) == {"url": ""}


def test_a_webhook_address_viber_cannot_call_is_explained(mocked):
    """Error Codes: 1 invalidUrl (Viber's check callback failed or the URL is not HTTPS)."""
    mocked.post(api("set_webhook"), json=refusal(1, "invalidUrl"))

    with pytest.raises(ProviderError, match="PUBLIC_BASE_URL") as caught:
        adapter.register_webhook(credentials=CREDENTIALS, webhook_url=HOOK)
    assert caught.value.permanent


# --- send_message ----------------------------------------------------------------------------


def test_viber_is_down(mocked):
    mocked.post(api("send_message"), status=503, body="Service Unavailable")

    with pytest.raises(ProviderError, match=r"could not be reached \(HTTP 503\)") as caught:
        adapter.send(
            credentials=CREDENTIALS, message=OutboundMessage(to="01234567890A=", text="Hello")
        )
    assert not caught.value.permanent


def test_a_timeout_can_be_tried_again(mocked):
    mocked.post(api("send_message"), body=requests.Timeout())

    with pytest.raises(ProviderError, match="did not answer in time") as caught:
        adapter.send(
            credentials=CREDENTIALS, message=OutboundMessage(to="01234567890A=", text="Hello")
        )
    assert not caught.value.permanent
