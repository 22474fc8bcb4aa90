"""The interfaces every provider package implements, and their one error type.

Adapters take and return plain data (tokens, identities); they never import
``channels``. Each provider maps its own error bodies to ``ProviderError`` in one place
(its ``client.py``).
"""

from dataclasses import dataclass, field
from datetime import datetime


class ProviderError(Exception):
    """A provider call that did not give us what we asked for.

    ``permanent`` says whether trying again can help (a revoked token cannot; a 503 or
    a timeout might). ``unauthorized`` marks a rejected credential (HTTP 401), after
    which the connection needs to be re-authorised. ``retry_after`` is in seconds when
    the provider said so.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        status: int | None = None,
        code: str = "",
        unauthorized: bool = False,
        retry_after: float | None = None,
        field: str = "",
    ):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status = status
        self.code = code
        self.unauthorized = unauthorized
        self.retry_after = retry_after
        self.field = field


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str = ""
    expires_at: datetime | None = None


@dataclass(frozen=True)
class InboxAdminInfo:
    """A teammate of the provider workspace (replies are attributed to them)."""

    external_id: str
    name: str
    email: str = ""


@dataclass(frozen=True)
class Identity:
    """Which provider workspace a token belongs to."""

    external_id: str
    name: str
    admins: tuple[InboxAdminInfo, ...] = field(default=())


class InboxAdapter:
    """The inbox side (Intercom, HubSpot): where conversations live.

    Connecting is OAuth with fixed steps: ``authorization_url`` → the provider sends
    the admin back with a code → ``exchange_code`` → ``identify`` (the provider
    workspace's id and name). Providers whose access tokens expire implement
    ``refresh``. ``check`` proves a token still works; ``revoke`` gives it up where the
    provider allows (best effort: a failure is logged, never raised to the user).

    Every method raises ``ProviderError`` for anything the provider did not give us.
    """

    provider: str
    label: str
    #: Shown when the provider workspace already belongs to another Octopods account.
    conflict_message: str
    #: Whether the authorization request carries a PKCE challenge (RFC 7636, S256).
    uses_pkce: bool = False

    def is_configured(self) -> bool:
        raise NotImplementedError

    def authorization_url(self, *, state: str, redirect_uri: str, code_challenge: str) -> str:
        raise NotImplementedError

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        raise NotImplementedError

    def identify(self, *, tokens: TokenSet) -> Identity:
        raise NotImplementedError

    def refresh(self, *, refresh_token: str) -> TokenSet:
        raise NotImplementedError(f"{self.label} access tokens do not expire")

    def check(self, *, tokens: TokenSet) -> None:
        raise NotImplementedError

    def revoke(self, *, tokens: TokenSet) -> None:
        raise NotImplementedError
