"""HTTP to the Telegram Bot API, and nothing else (PROVIDERS.md §5)."""

from contextlib import contextmanager

from django.conf import settings

from ..base import ProviderError
from ..errors import provider_call
from ..http import ProviderSession
from ..media import Download, download, host_matches

LABEL = "Telegram"

# Only what the relay turns into messages; reactions are not sent unless asked for.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "message_reaction")


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


# --- the message path (PROVIDERS.md §5.3-5.4) --------------------------------------------------

_RECONNECT = (
    "Telegram no longer accepts the channel's bot token: it was revoked, or the bot was "
    "deleted. Reconnect the channel in Octopods with the bot's current token from "
    "@BotFather (/mybots → your bot → API Token)."
)
_FILE_LINK = (
    "Telegram could not fetch the attached file from its link ({description}). Telegram "
    "takes files by link only up to 20 MB (5 MB for photos), and documents only as PDF, "
    "ZIP or GIF; send the file in one of those forms, or as a link in the text."
)
_UNPARSABLE = "can't parse entities"


class FormattingRefused(ProviderError):
    """Telegram could not parse the text as HTML (``parse_mode``): nothing was sent."""


# Telegram's descriptions (lower-cased fragments) the agent can act on.
_MESSAGE_ERRORS = (
    (
        "blocked by the user",
        "The customer has blocked the Telegram bot, so it cannot message them. They need "
        "to unblock the bot (or write to it again) before a reply can reach them.",
    ),
    (
        "user is deactivated",
        "The customer's Telegram account has been deleted, so the reply cannot reach them.",
    ),
    (
        "chat not found",
        "Telegram has no chat between the bot and this customer; a bot can only write to "
        "someone who has started a chat with it.",
    ),
    (
        "can't initiate conversation",
        "Telegram does not let the bot write first to this customer; they need to start a "
        "chat with the bot.",
    ),
    (
        _UNPARSABLE,
        "Telegram could not read the reply's formatting ({description}). Send it again "
        "with less formatting.",
    ),
    (
        "caption is too long",
        "The text is longer than the 1,024 characters Telegram allows with a file. Send "
        "the file and the text as separate replies.",
    ),
    (
        "message is too long",
        "The reply is longer than the 4,096 characters Telegram allows in one message. "
        "Send it in parts.",
    ),
    (
        "file is too big",
        "The customer's file is larger than the 20 MB Telegram lets bots download. It is "
        "still in the Telegram chat; ask the customer to send a smaller file or a link.",
    ),
    ("wrong file identifier/http url", _FILE_LINK),
    ("failed to get http url content", _FILE_LINK),
    ("wrong type of the web page content", _FILE_LINK),
    ("wrong remote file identifier", _FILE_LINK),
)


def describe_message_error(response) -> ProviderError:
    """Telegram's error body on a send or a file download → ProviderError worded for the
    agent who reads it as a note in the inbox: what failed and what to do."""
    error = describe_error(response)
    common = {"status": error.status, "code": error.code, "retry_after": error.retry_after}
    if error.unauthorized:
        return ProviderError(_RECONNECT, permanent=True, unauthorized=True, **common)
    if not error.permanent:
        return error  # flood control (with retry_after) or Telegram's own trouble
    description = _description(response)
    lowered = description.lower()
    for fragment, message in _MESSAGE_ERRORS:
        if fragment in lowered:
            kind = FormattingRefused if fragment == _UNPARSABLE else ProviderError
            return kind(message.format(description=description), permanent=True, **common)
    if error.status == 403:
        return ProviderError(
            f"Telegram does not let the bot write to this customer ({description}).",
            permanent=True,
            **common,
        )
    return ProviderError(f"Telegram refused the message: {description}", permanent=True, **common)


def _describe_file_error(response) -> ProviderError:
    # The download URL names a file, not a method: a 404 there is a file_path that has
    # expired (they last at least an hour), and a fresh getFile gives a new one.
    if response.status_code == 404:
        return ProviderError(
            "Telegram no longer had the customer's file at the address it gave; Octopods "
            "tries again.",
            permanent=False,
            status=404,
            code="404",
        )
    return describe_message_error(response)


def _description(response) -> str:
    try:
        return str(response.json().get("description") or response.reason or "")
    except (ValueError, AttributeError):
        return str(response.reason or "")


@contextmanager
def _telegram_call(describe=describe_error):
    try:
        with provider_call(LABEL, describe):
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

    def _call(self, method: str, payload: dict | None = None, *, describe=describe_error):
        url = f"{settings.TELEGRAM_API_URL}/bot{self.bot_token}/{method}"
        with _telegram_call(describe):
            if payload is None:
                response = self.session.get(url)
            else:
                response = self.session.post(url, json=payload)
            response.raise_for_status()
            body = response.json()
            if not isinstance(body, dict):
                raise ValueError("not a JSON object")
            if body.get("ok") is not True:
                raise describe(response)
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

    def answer_callback_query(self, query_id: str) -> None:
        # Bot API answerCallbackQuery: with no text, it only stops the button's
        # progress bar in the customer's app.
        self._call("answerCallbackQuery", {"callback_query_id": query_id})

    def send(self, method: str, payload: dict) -> dict:
        """Call a send method (``sendMessage``, ``sendPhoto``, …) → the sent Message."""
        message = self._call(method, payload, describe=describe_message_error)
        chat = message.get("chat") if isinstance(message, dict) else None
        if (
            not isinstance(chat, dict)
            or not isinstance(chat.get("id"), int)
            or not isinstance(message.get("message_id"), int)
        ):
            raise ProviderError(f"{LABEL} sent an answer we could not read", permanent=False)
        return message

    def get_file(self, file_id: str) -> dict:
        """``file_path`` (to download within the hour) and ``file_size`` of a file."""
        found = self._call("getFile", {"file_id": file_id}, describe=describe_message_error)
        path = found.get("file_path") if isinstance(found, dict) else None
        if not isinstance(path, str) or not path or ".." in path.split("/"):
            raise ProviderError(f"{LABEL} sent an answer we could not read", permanent=False)
        return found

    def download(self, file_path: str, *, max_bytes: int) -> Download:
        url = f"{settings.TELEGRAM_API_URL}/file/bot{self.bot_token}/{file_path}"
        with _telegram_call(_describe_file_error):
            return download(
                url,
                session=self.session,
                label=LABEL,
                describe=_describe_file_error,
                max_bytes=max_bytes,
                allowed=lambda address: host_matches(address, api_url=settings.TELEGRAM_API_URL),
            )
