"""The Twilio REST API stand-in: incoming phone numbers, sending, media, error bodies."""

import pytest

from sandbox import media
from sandbox.kinds import Kind
from sandbox.models import Conversation, Message, Webhook
from tests.sandbox.support import ACCOUNT, HOOKS, SMS_NUMBER, TWILIO, basic, register_twilio

pytestmark = pytest.mark.django_db

NUMBERS = f"{TWILIO}/IncomingPhoneNumbers.json"
NUMBER = f"{TWILIO}/IncomingPhoneNumbers/{SMS_NUMBER.sid}.json"
MESSAGES = f"{TWILIO}/Messages.json"
AUTHENTICATE = {
    "code": 20003,
    "message": "Authenticate",
    "more_info": "https://www.twilio.com/docs/errors/20003",
    "status": 401,
}


def error_of(response, status: int, code: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    return body


def test_it_finds_a_number_by_phone_number(client):
    response = client.get(NUMBERS, {"PhoneNumber": SMS_NUMBER.phone_number}, **basic())
    assert response.status_code == 200
    body = response.json()
    [number] = body["incoming_phone_numbers"]
    assert number["sid"] == SMS_NUMBER.sid
    assert number["phone_number"] == SMS_NUMBER.phone_number
    assert number["friendly_name"] == SMS_NUMBER.friendly_name
    assert number["capabilities"]["sms"] is True
    assert number["capabilities"]["mms"] is True
    assert number["sms_method"] == "POST"
    assert number["sms_url"] == ""
    assert number["account_sid"] == ACCOUNT.account_sid
    assert body["page"] == 0 and body["next_page_uri"] is None


def test_it_matches_a_plus_that_arrived_as_a_space(client):
    response = client.get(f"{NUMBERS}?PhoneNumber=+15550002222", **basic())
    assert len(response.json()["incoming_phone_numbers"]) == 1


def test_it_lists_every_number_without_a_filter(client):
    body = client.get(NUMBERS, **basic()).json()
    assert len(body["incoming_phone_numbers"]) == len(ACCOUNT.numbers)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic(token="0" * 32),
        basic(sid="AC00000000000000000000000000000000"),
        {"HTTP_AUTHORIZATION": "Basic not-base64!"},
    ],
)
def test_it_refuses_bad_credentials_with_20003(client, headers):
    response = client.get(NUMBERS, **headers)
    assert response.status_code == 401
    assert response.json() == AUTHENTICATE


def test_it_refuses_credentials_for_another_account_in_the_url(client):
    path = "/sandbox/twilio/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json"
    response = client.post(path, {"To": "+15551234567", "Body": "x"}, **basic())
    assert response.status_code == 401


def test_it_points_a_number_at_a_webhook(client):
    response = client.post(NUMBER, {"SmsUrl": HOOKS["sms"], "SmsMethod": "POST"}, **basic())
    assert response.status_code == 200
    assert response.json()["sms_url"] == HOOKS["sms"]
    assert response.json()["sms_method"] == "POST"
    assert Webhook.objects.get(scope="twilio_number", owner=SMS_NUMBER.sid).url == HOOKS["sms"]
    listed = client.get(NUMBERS, {"PhoneNumber": SMS_NUMBER.phone_number}, **basic()).json()
    assert listed["incoming_phone_numbers"][0]["sms_url"] == HOOKS["sms"]


def test_it_clears_the_webhook_with_an_empty_sms_url(client):
    register_twilio(client)
    client.post(NUMBER, {"SmsUrl": ""}, **basic())
    assert not Webhook.objects.exists()


def test_it_refuses_a_bad_sms_url_and_method(client):
    error_of(client.post(NUMBER, {"SmsUrl": "not a url"}, **basic()), 400, 21502)
    error_of(
        client.post(NUMBER, {"SmsUrl": HOOKS["sms"], "SmsMethod": "PUT"}, **basic()), 400, 21601
    )


def test_it_404s_a_number_the_account_does_not_have(client):
    path = f"{TWILIO}/IncomingPhoneNumbers/PN00000000000000000000000000000000.json"
    error_of(client.post(path, {"SmsUrl": HOOKS["sms"]}, **basic()), 404, 20404)


def test_it_sends_a_message_and_answers_201(client):
    response = client.post(
        MESSAGES,
        {
            "To": "+15551234567",
            "From": SMS_NUMBER.phone_number,
            "Body": "Your order shipped",
            "StatusCallback": "http://127.0.0.1:8000/hooks/sms/sms-key-1/",
        },
        **basic(),
    )
    assert response.status_code == 201
    body = response.json()
    assert body["sid"].startswith("SM") and len(body["sid"]) == 34
    assert body["account_sid"] == ACCOUNT.account_sid
    assert body["to"] == "+15551234567"
    assert body["from"] == SMS_NUMBER.phone_number
    assert body["body"] == "Your order shipped"
    assert body["status"] == "queued"
    assert body["direction"] == "outbound-api"
    assert body["num_media"] == "0"
    assert body["num_segments"] == "1"
    assert body["api_version"] == "2010-04-01"
    assert body["error_code"] is None
    assert body["date_created"].endswith("+0000")
    assert body["uri"] == f"/2010-04-01/Accounts/{ACCOUNT.account_sid}/Messages/{body['sid']}.json"
    assert body["subresource_uris"]["media"].endswith(f"/Messages/{body['sid']}/Media.json")
    sent = Message.objects.get(provider_message_id=body["sid"])
    assert sent.status_callback == "http://127.0.0.1:8000/hooks/sms/sms-key-1/"
    assert sent.conversation.endpoint == SMS_NUMBER.sid
    fetched = client.get(f"{TWILIO}/Messages/{body['sid']}.json", **basic()).json()
    assert fetched["sid"] == body["sid"]


def test_it_sends_media_as_an_mms(client):
    response = client.post(
        MESSAGES,
        {
            "To": "+15551234567",
            "From": SMS_NUMBER.phone_number,
            "MediaUrl": ["https://files.example/a.jpg", "https://files.example/b.jpg"],
        },
        **basic(),
    )
    body = response.json()
    assert body["sid"].startswith("MM")
    assert body["num_media"] == "2"


def test_it_sends_through_a_messaging_service(client):
    response = client.post(
        MESSAGES,
        {"To": "+15551234567", "MessagingServiceSid": "MG" + "a" * 32, "Body": "Hi"},
        **basic(),
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "accepted"
    assert body["messaging_service_sid"] == "MG" + "a" * 32


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"From": SMS_NUMBER.phone_number, "Body": "x"}, 21604),
        ({"To": "555-1234", "From": SMS_NUMBER.phone_number, "Body": "x"}, 21211),
        ({"To": "+15551234567", "From": "+15559999999", "Body": "x"}, 21606),
        ({"To": "+15551234567", "Body": "x"}, 21603),
        ({"To": "+15551234567", "From": SMS_NUMBER.phone_number}, 21602),
        ({"To": "+15551234567", "From": SMS_NUMBER.phone_number, "Body": "x" * 1601}, 21617),
        (
            {
                "To": "+15551234567",
                "From": SMS_NUMBER.phone_number,
                "Body": "x",
                "StatusCallback": "nope",
            },
            21609,
        ),
    ],
)
def test_it_refuses_bad_sends_with_twilios_codes(client, data, code):
    error_of(client.post(MESSAGES, data, **basic()), 400, code)
    assert not Message.objects.exists()


def test_it_names_the_bad_number_in_21211(client):
    data = {"To": "+1555", "From": SMS_NUMBER.phone_number, "Body": "x"}
    body = error_of(client.post(MESSAGES, data, **basic()), 400, 21211)
    assert body["message"] == "The 'To' number +1555 is not a valid phone number."


def test_it_serves_a_customers_mms_picture(client):
    chat = Conversation.objects.create(
        kind=Kind.TWILIO, endpoint=SMS_NUMBER.sid, customer_id="+15551234567"
    )
    Message.objects.create(
        conversation=chat,
        direction="in",
        provider_message_id="MM" + "1" * 32,
        media_ref="ME" + "2" * 32,
    )
    path = f"{TWILIO}/Messages/MM{'1' * 32}/Media/ME{'2' * 32}"
    for headers in ({}, basic()):
        response = client.get(path, **headers)
        assert response.status_code == 200
        assert response.content == media.photo()
        assert response["Content-Type"] == "image/jpeg"
    assert client.get(path, **basic(token="0" * 32)).status_code == 401
    assert client.get(f"{TWILIO}/Messages/MM{'1' * 32}/Media/ME{'3' * 32}").status_code == 404
