import json
import logging

import pytest
import requests
from django.conf import settings

from integrations.base import ProviderError
from integrations.channel import ChannelIdentity
from integrations.registry import channel_adapter
from integrations.telegram.credentials import Credentials

TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "s3cr3t_T0ken-for-acme"
HOOK = "https://bridge.example.com/hooks/telegram/chn_3f9a1c2b7d/"
CREDENTIALS = Credentials(
    bot_token=TOKEN, secret_token=SECRET, bot_id="7000000001", bot_username="acme_support_bot"
)
BOT = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Acme Support",
    "username": "acme_support_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

adapter = channel_adapter("telegram")


def api(method: str) -> str:
    return f"{settings.TELEGRAM_API_URL}/bot{TOKEN}/{method}"


def identify() -> ChannelIdentity:
    return adapter.identify(data={"bot_token": TOKEN, "secret_token": SECRET})


def refused(mocked, method: str, status: int, description: str, **extra) -> None:
    body = {"ok": False, "error_code": status, "description": description, **extra}
    if method == "getMe":
        mocked.get(api(method), status=status, json=body)
    else:
        mocked.post(api(method), status=status, json=body)


# --- identify --------------------------------------------------------------------------


def test_it_identifies_the_bot_with_get_me(mocked):
    mocked.get(api("getMe"), json={"ok": True, "result": BOT})

    found = identify()

    assert found == ChannelIdentity(
        identity="7000000001",
        name="@acme_support_bot",
        credentials={
            "bot_token": TOKEN,
            "secret_token": SECRET,
            "bot_id": "7000000001",
            "bot_username": "acme_support_bot",
        },
    )
    assert Credentials.from_dict(found.credentials) == CREDENTIALS
    (call,) = mocked.calls
    assert call.request.method == "GET"
    assert call.request.url == api("getMe")
    assert call.request.body is None


def test_it_blames_the_bot_token_when_telegram_refuses_it(mocked):
    refused(mocked, "getMe", 401, "Unauthorized")

    with pytest.raises(ProviderError) as caught:
        identify()

    error = caught.value
    assert error.field == "bot_token"
    assert error.unauthorized and error.permanent
    assert error.message.startswith("Telegram did not accept this bot token.")
    assert "@BotFather" in error.message


def test_it_blames_the_bot_token_when_telegram_cannot_read_it(mocked):
    refused(mocked, "getMe", 404, "Not Found")

    with pytest.raises(ProviderError) as caught:
        identify()

    assert caught.value.field == "bot_token"
    assert caught.value.permanent


def test_it_refuses_a_get_me_answer_without_the_bot(mocked):
    mocked.get(api("getMe"), json={"ok": True, "result": {"first_name": "?"}})

    with pytest.raises(ProviderError) as caught:
        identify()

    assert caught.value.message == "Telegram sent an answer we could not read"
    assert not caught.value.permanent


# --- webhook -----------------------------------------------------------------------------


def test_it_registers_our_webhook_with_its_secret_and_the_updates_we_read(mocked):
    mocked.post(
        api("setWebhook"), json={"ok": True, "result": True, "description": "Webhook was set"}
    )

    adapter.register_webhook(credentials=CREDENTIALS, webhook_url=HOOK)

    (call,) = mocked.calls
    assert call.request.method == "POST"
    assert call.request.url == api("setWebhook")
    assert call.request.headers["Content-Type"] == "application/json"
    assert json.loads(call.request.body) == {
        "url": HOOK,
        "secret_token": SECRET,
        "allowed_updates": ["message", "edited_message", "callback_query", "message_reaction"],
    }


def test_it_says_telegram_needs_a_public_https_address(mocked):
    refused(mocked, "setWebhook", 400, "Bad Request: bad webhook: HTTPS url must be provided")

    with pytest.raises(ProviderError) as caught:
        adapter.register_webhook(credentials=CREDENTIALS, webhook_url="http://127.0.0.1:8000/h/")

    error = caught.value
    assert "bad webhook: HTTPS url must be provided" in error.message
    assert "public HTTPS address" in error.message
    assert "PUBLIC_BASE_URL" in error.message
    assert error.permanent
    assert error.status == 400
    assert error.field == ""


def test_it_refuses_an_answer_that_is_not_ok_even_with_status_200(mocked):
    mocked.post(api("setWebhook"), json={"ok": False, "description": "Webhook is not set"})

    with pytest.raises(ProviderError) as caught:
        adapter.register_webhook(credentials=CREDENTIALS, webhook_url=HOOK)

    assert caught.value.message == "Telegram refused the request: Webhook is not set"


def test_it_deletes_the_webhook_when_the_channel_goes(mocked):
    mocked.post(
        api("deleteWebhook"),
        json={"ok": True, "result": True, "description": "Webhook was deleted"},
    )

    adapter.unregister_webhook(credentials=CREDENTIALS)

    (call,) = mocked.calls
    assert call.request.method == "POST"
    assert call.request.url == api("deleteWebhook")
    assert json.loads(call.request.body) == {}


# --- transient failures ------------------------------------------------------------------


def test_it_passes_on_how_long_telegram_asks_us_to_wait(mocked):
    refused(
        mocked,
        "setWebhook",
        429,
        "Too Many Requests: retry after 23",
        parameters={"retry_after": 23},
    )

    with pytest.raises(ProviderError) as caught:
        adapter.register_webhook(credentials=CREDENTIALS, webhook_url=HOOK)

    error = caught.value
    assert error.retry_after == 23
    assert not error.permanent
    assert error.code == "429"
    assert error.message == "Telegram asked us to slow down; try again in 23 seconds."


def test_it_treats_a_telegram_outage_as_temporary(mocked):
    mocked.get(api("getMe"), status=502, body="<html>Bad Gateway</html>")

    with pytest.raises(ProviderError) as caught:
        identify()

    error = caught.value
    assert not error.permanent
    assert error.status == 502
    assert "try again" in error.message
    assert error.field == ""


def test_it_treats_a_timeout_as_temporary(mocked):
    mocked.get(api("getMe"), body=requests.ReadTimeout())

    with pytest.raises(ProviderError) as caught:
        identify()

    assert caught.value.message == "Telegram did not answer in time"
    assert not caught.value.permanent


def test_it_never_logs_the_bot_token(mocked, caplog):
    # requests quotes the URL, and so the token, in its exceptions.
    mocked.get(
        api("getMe"),
        body=requests.ConnectionError(f"Max retries exceeded with url: {api('getMe')}"),
    )
    caplog.set_level(logging.DEBUG)

    with pytest.raises(ProviderError) as caught:
        identify()
    # What a caller does with a failure it did not expect: log it with its traceback.
    logging.getLogger("tests").error("adding the channel failed", exc_info=caught.value)

    assert "provider call failed: GET" in caplog.text
    assert "Telegram could not be reached" in caplog.text
    assert TOKEN.split(":")[1] not in caplog.text


# --- generated secrets -------------------------------------------------------------------


def test_it_generates_a_fresh_secret_token_set_webhook_accepts():
    first, second = adapter.generated_secrets(), adapter.generated_secrets()

    assert set(first) == {"secret_token"}
    assert first != second
    Credentials(bot_token=TOKEN, secret_token=first["secret_token"], bot_id="1", bot_username="b")
