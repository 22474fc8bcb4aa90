"""HTTP to the Telegram Bot API, and nothing else (PROVIDERS.md §5)."""

from contextlib import contextmanager

from django.conf import settings

from ..base import ProviderError
from ..errors import provider_call
from ..http import ProviderSession

LABEL = "Telegram"

# Only what the relay turns into messages; reactions are not sent unless asked for.
ALLOWED_UPDATES = ("message", "callback_query", "message_reaction")


def describe_error(response) -> ProviderError:
    """Telegram's ``{"ok": false, "error_code", "description", "parameters"}`` →
    ProviderError."""
    status = response.status_code
    description, code, parameters = response.reason or "", status, {}
    try:
        body = response.json()
        description = str(body.get("description") or description)
        code = int(body.get("error_code") or status)
        parameters = body.get("parameters") or {}
    except (ValueError, AttributeError, TypeError):
        pass
    retry_after = _retry_after(parameters, response)
    common = {"status": status, "code": str(code), "retry_after": retry_after}
    if code in (401, 404):
        # 401 is a revoked or mistyped token; a token Telegram cannot even parse leaves
        # the URL pointing nowhere, which it answers with 404.
        return ProviderError(
            "Telegram did not accept this bot token. Copy it again from @BotFather "
            "(/mybots → your bot → API Token); if you revoked it, use the new one.",
            permanent=True,
            unauthorized=True,
            field="bot_token",
            **common,
        )
    if code == 429:
        wait = f"in {retry_after:.0f} seconds" if retry_after else "in a minute"
        return ProviderError(
            f"Telegram asked us to slow down; try again {wait}.", permanent=False, **common
        )
    if status >= 500 or code >= 500:
        return ProviderError(
            f"Telegram could not be reached (HTTP {status}); try again in a few minutes.",
            permanent=False,
            **common,
        )
    if "bad webhook" in description.lower():
        return ProviderError(
            f"Telegram refused our webhook address ({description}). Telegram only delivers "
            "to a public HTTPS address on port 443, 80, 88 or 8443: set PUBLIC_BASE_URL "
            "to one.",
            permanent=True,
            **common,
        )
    return ProviderError(f"Telegram refused the request: {description}", permanent=True, **common)


def _retry_after(parameters, response) -> float | None:
    value = parameters.get("retry_after") if isinstance(parameters, dict) else None
    if value is None:
        value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


@contextmanager
def _telegram_call():
    try:
        with provider_call(LABEL, describe_error):
            yield
    except ProviderError as error:
        # The bot token is part of every URL, and requests quotes the URL in its
        # exceptions: drop them from the chain so a logged traceback cannot carry it.
        error.__cause__ = error.__context__ = None
        error.__suppress_context__ = True
        raise


class TelegramClient:
    """The Bot API as one bot (its token is in every URL: ``/bot<token>/<method>``)."""

    def __init__(self, bot_token: str):
        self.bot_token = bot_token
        self.session = ProviderSession()

    def _call(self, method: str, payload: dict | None = None):
        url = f"{settings.TELEGRAM_API_URL}/bot{self.bot_token}/{method}"
        with _telegram_call():
            if payload is None:
                response = self.session.get(url)
            else:
                response = self.session.post(url, json=payload)
            response.raise_for_status()
            body = response.json()
            if not isinstance(body, dict):
                raise ValueError("not a JSON object")
            if body.get("ok") is not True:
                raise describe_error(response)
            return body["result"]

    def get_me(self) -> dict:
        """The bot: ``id``, ``first_name``, ``username`` (every bot has one)."""
        bot = self._call("getMe")
        if not isinstance(bot, dict) or not bot.get("id") or not bot.get("username"):
            raise ProviderError(f"{LABEL} sent an answer we could not read", permanent=False)
        return bot

    def set_webhook(self, *, url: str, secret_token: str) -> None:
        self._call(
            "setWebhook",
            {"url": url, "secret_token": secret_token, "allowed_updates": list(ALLOWED_UPDATES)},
        )

    def delete_webhook(self) -> None:
        self._call("deleteWebhook", {})
