"""Twilio's webhook connection overrides: the URLs we give Twilio ask for retries
(twilio.com/docs/usage/webhooks/webhooks-connection-overrides), and a webhook signed
over the URL with or without that fragment is accepted, as Twilio does not document
which one it signs."""

from urllib.parse import urlencode

import pytest

from integrations.channel import WebhookRejected, WebhookRequest
from integrations.twilio import webhooks
from integrations.twilio.adapter import (
    CONNECTION_OVERRIDES,
    TwilioAdapter,
    with_connection_overrides,
)
from integrations.twilio.credentials import Credentials

URL = "https://bridge.example.com/hooks/sms/chn_8d2e4f6a1b/"
CREDENTIALS = Credentials(
    account_sid="AC" + "1" * 32, auth_token="f" * 32, phone_number="+14155550100"
)
PARAMS = {"MessageSid": ["SM" + "2" * 32], "AccountSid": [CREDENTIALS.account_sid], "Body": ["hi"]}


def request(signed_url: str) -> WebhookRequest:
    signature = webhooks._signature(CREDENTIALS.auth_token, signed_url, PARAMS).decode()
    return WebhookRequest(
        method="POST",
        url=URL,  # a fragment never reaches the server
        headers={"X-Twilio-Signature": signature},
        body=urlencode(PARAMS, doseq=True).encode(),
    )


def test_it_asks_twilio_to_retry_five_times_on_any_failure():
    assert CONNECTION_OVERRIDES == "#rc=5&rp=all"
    assert with_connection_overrides(URL) == URL + "#rc=5&rp=all"
    assert with_connection_overrides("") == ""  # no status callback asked for
    assert with_connection_overrides(URL + "#rc=2") == URL + "#rc=2"


@pytest.mark.parametrize("signed", [URL, URL + CONNECTION_OVERRIDES])
def test_it_accepts_the_signature_over_either_url(signed):
    TwilioAdapter().verify(credentials=CREDENTIALS, request=request(signed))


def test_it_refuses_a_signature_over_any_other_url():
    with pytest.raises(WebhookRejected):
        TwilioAdapter().verify(credentials=CREDENTIALS, request=request(URL + "#rc=1"))
