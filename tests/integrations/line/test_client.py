"""The LINE channel's calls at the HTTP level: adding a channel, its webhook, and what
each of LINE's refusals becomes. Shapes from the Messaging API reference
(https://developers.line.biz/en/reference/messaging-api/)."""

import json

import pytest

from integrations.base import ProviderError
from integrations.channel import ChannelIdentity
from integrations.line.adapter import LineAdapter
from integrations.line.client import api_url
from integrations.line.credentials import Credentials
from integrations.line.forms import LineForm

TOKEN = "eyJhbGciOiJIUzI1NiJ9.tokenForAcme/w1cDnyilFU="
SECRET = "8c0f3a7e1b2d4c5f6a7b8c9d0e1f2a3b"
HOOK = "https://bridge.example.com/hooks/line/chn_3f9a1c2b7d/"
BOT_ID = "Ub1b2c3d4e5f60718293a4b5c6d7e8f90"
CREDENTIALS = Credentials(
    channel_access_token=TOKEN, channel_secret=SECRET, bot_user_id=BOT_ID, basic_id="@acme"
)
# GET /v2/bot/info (https://developers.line.biz/en/reference/messaging-api/#get-bot-info)
BOT = {
    "userId": BOT_ID,
    "basicId": "@acme",
    "displayName": "Acme Support",
    "pictureUrl": "https://profile.line-scdn.net/abcdefghijklmn",
    "chatMode": "bot",
    "markAsReadMode": "auto",
}

adapter = LineAdapter()


def api(path: str) -> str:
    return f"{api_url()}{path}"


def identify() -> ChannelIdentity:
    return adapter.identify(data={"channel_access_token": TOKEN, "channel_secret": SECRET})


# --- the kind -----------------------------------------------------------------------------


def test_the_kind_describes_itself():
    assert (adapter.kind, adapter.label) == ("line", "LINE")
    assert adapter.identity_label == "LINE Official Account"
    assert adapter.description
    assert adapter.delivery_receipts is False
    assert "LINE Developers Console" in adapter.unregister_advice


# --- identify -------------------------------------------------------------------------------


def test_it_identifies_the_account_with_bot_info(mocked):
    """Get bot info: the token is sent as a Bearer header, nothing is changed."""
    mocked.get(api("/v2/bot/info"), json=BOT)

    found = identify()

    assert found == ChannelIdentity(
        identity=BOT_ID,
        name="Acme Support",
        credentials={
            "channel_access_token": TOKEN,
            "channel_secret": SECRET,
            "bot_user_id": BOT_ID,
            "basic_id": "@acme",
        },
    )
    assert Credentials.from_dict(found.credentials) == CREDENTIALS
    (call,) = mocked.calls
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in call.request.url


def test_a_wrong_token_is_refused_on_its_field(mocked):
    """Status codes: 401 "Authentication failed…" is a token LINE does not know."""
    mocked.get(
        api("/v2/bot/info"),
        status=401,
        json={
            "message": "Authentication failed. Confirm that the access token in the "
            "authorization header is valid."
        },
    )
    with pytest.raises(ProviderError) as refused:
        identify()
    error = refused.value
    assert error.field == "channel_access_token"
    assert error.unauthorized and error.permanent
    assert "Messaging API tab" in error.message


def test_an_answer_without_the_bot_id_is_not_trusted(mocked):
    mocked.get(api("/v2/bot/info"), json={"basicId": "@acme", "displayName": "Acme"})
    with pytest.raises(ProviderError, match="could not read") as refused:
        identify()
    assert refused.value.permanent is False


def test_the_form_checks_the_secrets_shape():
    form = LineForm(data={"channel_access_token": "with space", "channel_secret": "nope"})
    assert not form.is_valid()
    assert set(form.errors) == {"channel_access_token", "channel_secret"}
    assert LineForm(data={"channel_access_token": TOKEN, "channel_secret": SECRET}).is_valid()


# --- the webhook (https://developers.line.biz/en/reference/messaging-api/#set-webhook-endpoint-url)


def _webhook_answers(mocked, *, test: dict, active: bool = True) -> None:
    mocked.put(api("/v2/bot/channel/webhook/endpoint"), json={})
    mocked.post(api("/v2/bot/channel/webhook/test"), json=test)
    mocked.get(api("/v2/bot/channel/webhook/endpoint"), json={"endpoint": HOOK, "active": active})


def test_registering_sets_the_endpoint_then_tests_it(mocked):
    """Set webhook endpoint URL, Test webhook endpoint, Get webhook endpoint information."""
    _webhook_answers(
        mocked,
        test={
            "success": True,
            "timestamp": "2026-12-06T03:00:00Z",
            "statusCode": 200,
            "reason": "OK",
            "detail": "200",
        },
    )

    adapter.register_webhook(credentials=CREDENTIALS, webhook_url=HOOK)

    put, test, check = mocked.calls
    assert (put.request.method, json.loads(put.request.body)) == ("PUT", {"endpoint": HOOK})
    assert (test.request.method, json.loads(test.request.body)) == ("POST", {"endpoint": HOOK})
    assert check.request.method == "GET"


def test_a_test_refused_by_our_signature_check_points_at_the_secret(mocked):
    """Test webhook endpoint: our webhook answers 403 to a body not signed with the
    secret the admin typed."""
    _webhook_answers(
        mocked,
        test={
            "success": False,
            "timestamp": "2026-12-06T03:00:00Z",
            "statusCode": 403,
            "reason": "ERROR_STATUS_CODE",
            "detail": "403",
        },
    )
    with pytest.raises(ProviderError) as refused:
        adapter.register_webhook(credentials=CREDENTIALS, webhook_url=HOOK)
    assert refused.value.field == "channel_secret"
    assert "Basic settings" in refused.value.message


def test_a_webhook_lines_cannot_reach_is_explained(mocked):
    _webhook_answers(
        mocked,
        test={
            "success": False,
            "timestamp": "2026-12-06T03:00:00Z",
            "statusCode": -1,
            "reason": "COULD_NOT_CONNECT",
            "detail": "Connection refused",
        },
    )
    with pytest.raises(ProviderError, match="public HTTPS address") as refused:
        adapter.register_webhook(credentials=CREDENTIALS, webhook_url=HOOK)
    assert "COULD_NOT_CONNECT" in refused.value.message


def test_a_webhook_that_is_turned_off_is_explained(mocked):
    _webhook_answers(
        mocked,
        test={"success": True, "timestamp": "2026-12-06T03:00:00Z", "statusCode": 200},
        active=False,
    )
    with pytest.raises(ProviderError, match="Use webhook is off"):
        adapter.register_webhook(credentials=CREDENTIALS, webhook_url=HOOK)


def test_an_address_line_refuses_is_explained(mocked):
    mocked.put(
        api("/v2/bot/channel/webhook/endpoint"),
        status=400,
        json={"message": "Invalid webhook endpoint URL"},
    )
    with pytest.raises(ProviderError, match="Invalid webhook endpoint URL") as refused:
        adapter.register_webhook(credentials=CREDENTIALS, webhook_url="http://localhost/")
    assert refused.value.permanent


def test_unregistering_leaves_the_admin_advice(mocked):
    """LINE's API sets a webhook URL but has none to remove it: nothing is called, and
    the caller shows unregister_advice."""
    with pytest.raises(ProviderError, match="cannot remove"):
        adapter.unregister_webhook(credentials=CREDENTIALS)
    assert not mocked.calls
