import json
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import CommandError, call_command

from integrations.registry import channel_labels

from ..conftest import hubspot_api

DEVELOPER_KEY = "dev-key-0001"
APP_ID = "7000001"
CHANNELS = "/conversations/v3/custom-channels"
DEFINITION = {
    "name": "Octopods",
    # Every registered kind, by label: "WhatsApp, SMS, Telegram and Messenger …".
    "channelDescription": f"{channel_labels()} conversations, relayed by Octopods.",
    "webhookUrl": "https://octopods.example.com/hooks/hubspot/",
    "capabilities": {
        "threadingModel": "INTEGRATION_THREAD_ID",
        "deliveryIdentifierTypes": ["HS_PHONE_NUMBER", "CHANNEL_SPECIFIC_OPAQUE_ID"],
        "allowOutgoingMessages": True,
        "outgoingAttachmentTypes": ["FILE"],
    },
}


@pytest.fixture(autouse=True)
def developer_account(settings):
    settings.PUBLIC_BASE_URL = "https://octopods.example.com"
    settings.HUBSPOT_APP_ID = APP_ID
    settings.HUBSPOT_DEVELOPER_API_KEY = DEVELOPER_KEY
    settings.HUBSPOT_CUSTOM_CHANNEL_ID = ""


def run(*args) -> str:
    out = StringIO()
    call_command("hubspot_custom_channel", *args, stdout=out)
    return out.getvalue()


def query(call) -> dict:
    return parse_qs(urlsplit(call.request.url).query)


def path(call) -> str:
    return urlsplit(call.request.url).path


def test_it_creates_the_custom_channel_with_the_developer_key_and_prints_its_id(mocked):
    mocked.post(hubspot_api(CHANNELS), status=201, json={"id": "4000123", **DEFINITION})
    output = run()
    [call] = mocked.calls
    assert path(call) == urlsplit(hubspot_api(CHANNELS)).path
    assert query(call) == {"hapikey": [DEVELOPER_KEY], "appId": [APP_ID]}
    # The developer key is the only credential: no portal's token goes with it.
    assert "Authorization" not in call.request.headers
    assert json.loads(call.request.body) == DEFINITION
    assert "HubSpot custom channel 4000123 created." in output
    assert "Set HUBSPOT_CUSTOM_CHANNEL_ID=4000123" in output


def test_it_updates_the_configured_channel_with_update(settings, mocked):
    settings.HUBSPOT_CUSTOM_CHANNEL_ID = "4000123"
    mocked.patch(hubspot_api(f"{CHANNELS}/4000123"), json={"id": "4000123", **DEFINITION})
    output = run("--update")
    [call] = mocked.calls
    assert call.request.method == "PATCH"
    assert path(call) == urlsplit(hubspot_api(f"{CHANNELS}/4000123")).path
    assert query(call) == {"hapikey": [DEVELOPER_KEY], "appId": [APP_ID]}
    assert json.loads(call.request.body) == DEFINITION
    assert "HubSpot custom channel 4000123 updated." in output


@pytest.mark.parametrize("missing", ["HUBSPOT_APP_ID", "HUBSPOT_DEVELOPER_API_KEY"])
def test_it_says_which_setting_is_missing(settings, mocked, missing):
    setattr(settings, missing, "")
    with pytest.raises(CommandError, match=f"Set {missing} first"):
        run()
    assert len(mocked.calls) == 0


def test_it_will_not_update_a_channel_it_does_not_know(mocked):
    with pytest.raises(CommandError, match="HUBSPOT_CUSTOM_CHANNEL_ID, which is not set"):
        run("--update")
    assert len(mocked.calls) == 0


def test_it_will_not_create_a_second_channel(settings, mocked):
    settings.HUBSPOT_CUSTOM_CHANNEL_ID = "4000123"
    with pytest.raises(CommandError, match=r"already set \(4000123\)\. Use --update"):
        run()
    assert len(mocked.calls) == 0


def test_it_passes_on_hubspots_refusal_without_the_key(mocked):
    mocked.post(
        hubspot_api(CHANNELS),
        status=400,
        json={
            "status": "error",
            "message": "Invalid capability values",
            "category": "VALIDATION_ERROR",
            "subCategory": "CustomChannelsError.INVALID_CHANNEL_CAPABILITY_VALUES",
        },
    )
    with pytest.raises(CommandError) as caught:
        run()
    assert str(caught.value) == "HubSpot answered 400: Invalid capability values"
    assert DEVELOPER_KEY not in str(caught.value)


def test_it_refuses_an_answer_without_an_id(mocked):
    mocked.post(hubspot_api(CHANNELS), status=201, json={"name": "Octopods"})
    with pytest.raises(CommandError, match="did not say its id"):
        run()
