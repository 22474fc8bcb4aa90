"""HTTP to Twilio's REST API, and nothing else (PROVIDERS.md §4)."""

from urllib.parse import urlsplit

from django.conf import settings

from ..base import ProviderError
from ..errors import provider_call
from ..http import ProviderSession
from ..media import Download, download, host_matches

LABEL = "Twilio"


def describe_error(response) -> ProviderError:
    """Twilio's error bodies (``{code, message, more_info, status}``, or RFC 9457
    problem JSON from newer services) → ProviderError."""
    status = response.status_code
    code, message = "", response.reason or ""
    try:
        body = response.json()
        code = str(body.get("code") or "")
        message = str(body.get("message") or body.get("detail") or body.get("title") or message)
    except (ValueError, AttributeError):
        pass
    retry_after = _retry_after(response)
    common = {"status": status, "code": code, "retry_after": retry_after}
    if status == 401 or code == "20003":
        return ProviderError(
            "Twilio did not accept this Account SID and Auth Token. Copy both again from "
            "the Account Info panel of your Twilio Console.",
            permanent=True,
            unauthorized=True,
            field="auth_token",
            **common,
        )
    if status == 404 or code == "20404":
        return ProviderError(
            "Twilio has no account or number at this address for these credentials. "
            "Check the Account SID.",
            permanent=True,
            field="account_sid",
            **common,
        )
    if status == 429 or code == "20429":
        return ProviderError(
            "Twilio asked us to slow down; try again in a minute.", permanent=False, **common
        )
    if status >= 500:
        return ProviderError(
            f"Twilio could not be reached (HTTP {status}); try again in a few minutes.",
            permanent=False,
            **common,
        )
    return ProviderError(f"Twilio refused the request: {message}", permanent=True, **common)


def _retry_after(response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, TypeError, ValueError):
        return None


# --- the message path (PROVIDERS.md §4.3-4.5) --------------------------------------------------

# Where Twilio's media URLs live, and where they redirect: its media CDN (with HTTP
# auth enforced on media, which Twilio now recommends) or, for older media, its bucket
# on S3 (support.twilio.com, "Protect Media Access with HTTP Basic Authentication").
API_HOSTS = ("api.twilio.com",)
MEDIA_HOSTS = ("*.twiliocdn.com",)
_LEGACY_MEDIA = ("s3-external-1.amazonaws.com", "/media.twiliocdn.com/")

# Error codes the agent can act on, worded for them (twilio.com/docs/api/errors/<code>).
_MESSAGE_ERRORS = {
    "21211": "The customer's phone number is not a valid number, so Twilio did not send the "
    "SMS. Correct the contact's number.",
    "21614": "The customer's number is not a mobile number and cannot receive SMS. Reach the "
    "customer another way.",
    "21610": "The customer replied STOP to this number, so Twilio blocks every message to "
    "them until they text START to it. Reach the customer another way.",
    "21612": "Twilio cannot route SMS from the channel's number to the customer's number "
    "(their carrier or country is not reachable from it). Reach the customer another way.",
    "21408": "SMS to the customer's country is not enabled on the Twilio account. Enable it "
    "in the Twilio Console (Messaging → Settings → Geo permissions), then send again.",
    "21608": "The Twilio account is a trial account, which only texts verified numbers. "
    "Verify the customer's number in the Twilio Console, or upgrade the account.",
    "21606": "The channel's number can no longer send SMS from this Twilio account. Check "
    "the number in the Twilio Console, or reconnect the channel with an SMS-capable number.",
    "21617": "The reply is longer than the 1,600 characters Twilio sends as one SMS. "
    "Shorten it, or send it in parts.",
    "21620": "Twilio could not use the attached file's link. Send the file again.",
    "21623": "Twilio could not use the attached file's link. Send the file again.",
}
# Rate limits: the account's API limit and a channel's sending limit.
_RATE_LIMITS = {"20429", "63018"}
_RECONNECT = (
    "Twilio did not accept the channel's Account SID and Auth Token: the token was changed "
    "or the account was closed. Reconnect the channel in Octopods with the account's "
    "current credentials."
)


def describe_message_error(response) -> ProviderError:
    """Twilio's error body on a send or a media download → ProviderError worded for the
    agent who reads it as a note in the inbox: what failed and what to do."""
    error = describe_error(response)
    common = {"status": error.status, "code": error.code, "retry_after": error.retry_after}
    if error.unauthorized:
        return ProviderError(_RECONNECT, permanent=True, unauthorized=True, **common)
    if error.code in _MESSAGE_ERRORS:
        return ProviderError(_MESSAGE_ERRORS[error.code], permanent=True, **common)
    if error.status == 429 or error.code in _RATE_LIMITS:
        wait = f"in {error.retry_after:.0f} seconds" if error.retry_after else "shortly"
        return ProviderError(
            f"Twilio asked us to send more slowly; Octopods tries again {wait}.",
            permanent=False,
            **common,
        )
    if error.status == 404 and error.field == "account_sid":
        return ProviderError(
            "Twilio has nothing at this address for the channel's account: the account or "
            "the file is gone. If the account was closed or moved, reconnect the channel.",
            permanent=True,
            **common,
        )
    return error


class TwilioClient:
    """One Twilio account, authenticated with its Account SID and Auth Token."""

    def __init__(self, account_sid: str, auth_token: str):
        self.account_sid = account_sid
        self.session = ProviderSession()
        self.session.auth = (account_sid, auth_token)

    def _request(self, method: str, path: str, *, describe=describe_error, **kwargs) -> dict:
        url = f"{settings.TWILIO_API_URL}/2010-04-01/Accounts/{self.account_sid}{path}"
        with provider_call(LABEL, describe):
            response = self.session.request(method, url, **kwargs)
            response.raise_for_status()
            body = response.json()
            if not isinstance(body, dict):
                raise ValueError("not a JSON object")
            return body

    def incoming_number(self, phone_number: str) -> dict | None:
        """The account's number ``phone_number`` (E.164), or None when it has no such
        number: ``sid`` (PN…), ``phone_number``, ``friendly_name``, ``capabilities``,
        ``sms_url``."""
        body = self._request(
            "GET", "/IncomingPhoneNumbers.json", params={"PhoneNumber": phone_number}
        )
        with provider_call(LABEL, describe_error):
            numbers = body["incoming_phone_numbers"]
            # The filter matches on the number; keep only an exact match all the same.
            return next((n for n in numbers if n.get("phone_number") == phone_number), None)

    def set_sms_url(self, number_sid: str, *, url: str) -> None:
        """Point the number's incoming messages at ``url`` ("" clears it)."""
        self._request(
            "POST",
            f"/IncomingPhoneNumbers/{number_sid}.json",
            data={"SmsUrl": url, "SmsMethod": "POST"},
        )

    def send_message(
        self,
        *,
        to: str,
        from_: str,
        body: str = "",
        media_url: str = "",
        status_callback: str = "",
    ) -> str:
        """Send one SMS (or MMS with ``media_url``) and return its sid (SM…/MM…)."""
        form = {"To": to, "From": from_}
        if body:
            form["Body"] = body
        if media_url:
            form["MediaUrl"] = media_url
        if status_callback:
            form["StatusCallback"] = status_callback
        answer = self._request("POST", "/Messages.json", data=form, describe=describe_message_error)
        sid = answer.get("sid")
        if not isinstance(sid, str) or not sid:
            raise ProviderError(f"{LABEL} sent an answer we could not read", permanent=False)
        return sid

    def download(self, url: str, *, max_bytes: int) -> Download:
        """A customer's MMS file: its media URL on Twilio's API (with this account's
        credentials, which Twilio requires when media auth is enforced), then wherever
        Twilio redirects among its media hosts (without them)."""
        return download(
            url,
            session=self.session,
            label=LABEL,
            describe=describe_message_error,
            max_bytes=max_bytes,
            allowed=self._own_media,
            redirect_allowed=_media_host,
        )

    def _own_media(self, url: str) -> bool:
        # The credentials go only to this account's own media on Twilio's API.
        path = urlsplit(url).path
        return any(
            host_matches(url, api_url=base)
            and path.startswith(
                f"{urlsplit(base).path.rstrip('/')}/2010-04-01/Accounts/"
                f"{self.account_sid}/Messages/"
            )
            for base in (settings.TWILIO_API_URL, "https://api.twilio.com")
        )


def _media_host(url: str) -> bool:
    if host_matches(url, api_url=settings.TWILIO_API_URL, hosts=API_HOSTS + MEDIA_HOSTS):
        return True
    host, bucket = _LEGACY_MEDIA
    return host_matches(url, api_url=settings.TWILIO_API_URL, hosts=(host,)) and urlsplit(
        url
    ).path.startswith(bucket)
