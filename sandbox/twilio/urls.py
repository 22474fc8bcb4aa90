"""Twilio's REST API: TWILIO_API_URL = {base}/sandbox/twilio."""

from django.urls import path

from . import api

TWILIO_ACCOUNT = "twilio/2010-04-01/Accounts/<str:account_sid>"

urlpatterns = [
    path(
        f"{TWILIO_ACCOUNT}/IncomingPhoneNumbers.json",
        api.incoming_phone_numbers,
        name="twilio_incoming_phone_numbers",
    ),
    path(
        f"{TWILIO_ACCOUNT}/IncomingPhoneNumbers/<str:sid>.json",
        api.incoming_phone_number,
        name="twilio_incoming_phone_number",
    ),
    path(f"{TWILIO_ACCOUNT}/Messages.json", api.messages, name="twilio_messages"),
    path(f"{TWILIO_ACCOUNT}/Messages/<str:sid>.json", api.message, name="twilio_message"),
    path(
        f"{TWILIO_ACCOUNT}/Messages/<str:message_sid>/Media/<str:media_sid>",
        api.message_media,
        name="twilio_media",
    ),
]
