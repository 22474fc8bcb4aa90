"""Signed links to the files customers send, for the inbox to fetch."""

import logging
from pathlib import PurePosixPath

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
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


def storage_errors() -> tuple[type[BaseException], ...]:
    """What the file storage raises when it cannot be reached or refuses: the disk's
    OSError, and botocore's errors for an S3 bucket (missing, unreachable, denied)."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # pragma: no cover - botocore is a dependency
        return (OSError,)
    return (OSError, BotoCoreError, ClientError)


def storage_failure(error: BaseException) -> str:
    """A sentence on why the storage failed, for the message log and the worker's log.

    botocore's messages name the operation, the error code and the endpoint, never
    the credentials; a disk's name the path."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and response.get("Error"):
        failure = response["Error"]
        code = failure.get("Code") or "error"
        bucket = failure.get("BucketName") or getattr(default_storage, "bucket_name", "")
        where = f" (bucket {bucket})" if bucket else ""
        return f"{code}{where}: {failure.get('Message') or error}"
    return f"{error.__class__.__name__}: {error}"
