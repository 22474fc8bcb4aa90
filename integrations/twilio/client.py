"""HTTP to Twilio's REST API, and nothing else (PROVIDERS.md §4)."""

from django.conf import settings

from ..base import ProviderError
from ..errors import provider_call
from ..http import ProviderSession

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


class TwilioClient:
    """One Twilio account, authenticated with its Account SID and Auth Token."""

    def __init__(self, account_sid: str, auth_token: str):
        self.account_sid = account_sid
        self.session = ProviderSession()
        self.session.auth = (account_sid, auth_token)

    def _request(self, method: str, path: str, **kwargs) -> dict:
        url = f"{settings.TWILIO_API_URL}/2010-04-01/Accounts/{self.account_sid}{path}"
        with provider_call(LABEL, describe_error):
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
