"""Signed links to the files customers send, for the inbox to fetch."""

import logging
from pathlib import PurePosixPath

from django.conf import settings
from django.core import signing
from django.urls import reverse

logger = logging.getLogger(__name__)


# Files a customer sends are carried into the inbox as links to us, signed; the inbox
# fetches them when the message arrives, and a person may open them later.
MEDIA_LINK_MAX_AGE = 30 * 24 * 60 * 60


MEDIA_SALT = "channels.media"


def media_url(path: str) -> str:
    token = signing.dumps(path, salt=MEDIA_SALT, compress=True)
    # The link ends with the file's name: an inbox names the attachment from its URL.
    name = PurePosixPath(path).name
    return settings.PUBLIC_BASE_URL + reverse("channels:media", args=[token, name])


def media_path(token: str) -> str | None:
    try:
        return signing.loads(token, salt=MEDIA_SALT, max_age=MEDIA_LINK_MAX_AGE)
    except signing.BadSignature:
        return None
