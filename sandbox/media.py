"""The one picture a customer can send from the phone, shipped with the sandbox, and the
helpers the providers' media endpoints share."""

import base64
import hashlib
from functools import cache
from pathlib import Path

from django.http import HttpResponse

PHOTO_PATH = Path(__file__).resolve().parent / "static" / "sandbox" / "customer-photo.jpg"
PHOTO_STATIC = "sandbox/customer-photo.jpg"
PHOTO_MIME = "image/jpeg"
PHOTO_WIDTH = 320
PHOTO_HEIGHT = 240
PHOTO_NAME = "customer-photo.jpg"


@cache
def photo() -> bytes:
    return PHOTO_PATH.read_bytes()


def photo_sha256_hex() -> str:
    return hashlib.sha256(photo()).hexdigest()


def photo_sha256_base64() -> str:
    # WhatsApp's webhooks carry the digest base64-encoded.
    return base64.b64encode(hashlib.sha256(photo()).digest()).decode()


def photo_response() -> HttpResponse:
    response = HttpResponse(photo(), content_type=PHOTO_MIME)
    response["Content-Length"] = str(len(photo()))
    return response
