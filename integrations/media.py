"""Downloading a customer's file from a channel provider (every channel kind).

The address of a customer's file comes from a webhook or a provider answer, so it is
fetched only from the provider's own hosts, its credentials go nowhere else, and the
body is read in chunks up to a cap.
"""

from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

from .base import ProviderError
from .errors import provider_call
from .http import ProviderSession

_MAX_REDIRECTS = 5
_CHUNK_BYTES = 64 * 1024
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}


def host_matches(url: str, *, api_url: str, hosts: tuple[str, ...] = ()) -> bool:
    """Whether ``url`` is on the configured API's own scheme and host (the sandbox in
    development), or on one of ``hosts`` over HTTPS: an exact name or ``*.domain``."""
    parts, api = urlsplit(url), urlsplit(api_url)
    if parts.username is not None or parts.password is not None:
        return False
    if (parts.scheme, parts.netloc.lower()) == (api.scheme, api.netloc.lower()):
        return True
    try:
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or port not in (None, 443) or not host:
        return False
    return any(
        host.endswith(pattern[1:]) if pattern.startswith("*.") else host == pattern
        for pattern in hosts
    )


@dataclass(frozen=True)
class Download:
    content: bytes
    content_type: str  # the Content-Type header, "" when the server sent none
    filename: str  # from Content-Disposition, "" when the server named none


def download(
    url: str,
    *,
    session: ProviderSession,
    label: str,
    describe,
    max_bytes: int,
    allowed,
    redirect_allowed=None,
) -> Download:
    """GET ``url`` with ``session`` (which carries the provider's credentials) and
    return at most ``max_bytes`` of it.

    ``allowed(url)`` and ``redirect_allowed(url)`` say which addresses may be fetched
    first and after a redirect (None: redirects are refused). A redirect to another
    host is followed without the credentials; one to the same host keeps them.
    ``describe`` maps an HTTP error response to ProviderError. Anything else refused is
    a permanent ProviderError, since asking again gives the same answer.
    """
    if not allowed(url):
        raise _refused_host(label, url)
    for _ in range(_MAX_REDIRECTS + 1):
        with provider_call(label, describe):
            response = session.get(url, stream=True, allow_redirects=False)
            with response:
                location = response.headers.get("Location")
                if response.status_code in _REDIRECT_STATUSES and location:
                    target = urljoin(url, location)
                    if redirect_allowed is None or not redirect_allowed(target):
                        raise _refused_host(label, target)
                    if urlsplit(target).netloc.lower() != urlsplit(url).netloc.lower():
                        session = ProviderSession()
                    url = target
                    continue
                response.raise_for_status()
                return Download(
                    content=_read_capped(response, label=label, max_bytes=max_bytes),
                    content_type=response.headers.get("Content-Type", "").strip(),
                    filename=_disposition_filename(response.headers.get("Content-Disposition")),
                )
    raise ProviderError(
        f"{label} sent the file's address through too many redirects; Octopods gave up.",
        permanent=True,
    )


def file_too_large(label: str, *, max_bytes: int, size: int | None = None) -> ProviderError:
    found = f"it is {_megabytes(size)}" if size else "it is larger"
    return ProviderError(
        f"The customer's file is too large to bring over: {found}, and Octopods carries "
        f"files of up to {_megabytes(max_bytes)}. It is still in the {label} conversation; "
        "ask the customer to send a smaller file or a link to it.",
        permanent=True,
        code="too_large",
    )


def _read_capped(response, *, label: str, max_bytes: int) -> bytes:
    try:
        announced = int(response.headers.get("Content-Length", ""))
    except ValueError:
        announced = None
    if announced is not None and announced > max_bytes:
        raise file_too_large(label, max_bytes=max_bytes, size=announced)
    content = bytearray()
    for chunk in response.iter_content(chunk_size=_CHUNK_BYTES):
        content += chunk
        if len(content) > max_bytes:
            # Stop reading: a server that lies about (or omits) the length must not
            # make us hold more than the cap.
            raise file_too_large(label, max_bytes=max_bytes)
    return bytes(content)


def _refused_host(label: str, url: str) -> ProviderError:
    host = urlsplit(url).hostname or "an unknown host"
    return ProviderError(
        f"The customer's file was not fetched: its address is on {host}, which is not one of "
        f"{label}'s own servers, and Octopods only downloads files from those.",
        permanent=True,
        code="foreign_host",
    )


def _disposition_filename(header: str | None) -> str:
    if not header:
        return ""
    message = EmailMessage()
    message["Content-Disposition"] = header
    return safe_filename(message.get_filename() or "")


def safe_filename(name: str) -> str:
    """The last part of ``name``: a name, never a path, since it becomes part of where
    the file is stored."""
    name = PurePosixPath(name.replace("\\", "/")).name.strip()
    return "" if name in ("", ".", "..") else name


def _megabytes(size: int) -> str:
    megabytes = size / 1_000_000
    return f"{megabytes:.0f} MB" if megabytes >= 10 else f"{megabytes:.1f} MB"
