"""Connecting inboxes: the OAuth steps after the redirect, token upkeep, disconnecting."""

import logging
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from workspaces.models import Workspace
from workspaces.services import (
    Connection,
    workspace_connect,
    workspace_disconnect,
    workspace_mark_needs_reconnect,
    workspace_store_tokens,
)

from .base import InboxAdapter, ProviderError, TokenSet
from .registry import inbox_adapter

logger = logging.getLogger(__name__)


def connection_complete(
    *, adapter: InboxAdapter, account, user, code: str, redirect_uri: str, code_verifier: str
) -> tuple[Workspace, bool]:
    """Exchange the code, learn which provider workspace it is, store the connection.

    Raises ProviderError (provider trouble) or WorkspaceConflict (another account owns
    that provider workspace); nothing is stored then.
    """
    tokens = adapter.exchange_code(
        code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
    )
    identity = adapter.identify(tokens=tokens)
    return workspace_connect(
        account=account,
        user=user,
        connection=Connection(
            provider=adapter.provider,
            external_id=identity.external_id,
            name=identity.name,
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            token_expires_at=tokens.expires_at,
            admins=tuple((a.external_id, a.name, a.email) for a in identity.admins),
        ),
    )


@contextmanager
def inbox_call(workspace: Workspace):
    """Wrap calls made with a workspace's token: a rejected token (401, a dead grant)
    marks the workspace Needs reconnect before the error goes on."""
    try:
        yield
    except ProviderError as error:
        if error.unauthorized:
            workspace_mark_needs_reconnect(workspace=workspace)
        raise


def _stored_tokens(workspace: Workspace) -> TokenSet:
    return TokenSet(
        access_token=workspace.access_token,
        refresh_token=workspace.refresh_token,
        expires_at=workspace.token_expires_at,
    )


def _refresh_due(workspace: Workspace) -> bool:
    if workspace.token_expires_at is None:
        return False  # Intercom tokens do not expire.
    margin = timedelta(seconds=settings.HUBSPOT_REFRESH_MARGIN_SECONDS)
    return workspace.token_expires_at - margin <= timezone.now()


def workspace_tokens(*, workspace: Workspace) -> TokenSet:
    """The workspace's tokens, refreshed ahead of expiry.

    One refresh at a time per workspace: the row lock makes concurrent callers wait,
    and they then find the token the first one stored (a refresh token may be
    single-use, so two refreshes at once could leave us holding a dead one).
    """
    if not _refresh_due(workspace):
        return _stored_tokens(workspace)
    adapter = inbox_adapter(workspace.provider)
    failure = None
    with transaction.atomic():
        locked = Workspace.objects.select_for_update().get(pk=workspace.pk)
        if _refresh_due(locked):
            try:
                tokens = adapter.refresh(refresh_token=locked.refresh_token)
            except ProviderError as error:
                failure = error
            else:
                workspace_store_tokens(
                    workspace=locked,
                    access_token=tokens.access_token,
                    refresh_token=tokens.refresh_token or locked.refresh_token,
                    expires_at=tokens.expires_at,
                )
    if failure is not None:
        with inbox_call(workspace):
            raise failure
    workspace.access_token = locked.access_token
    workspace.refresh_token = locked.refresh_token
    workspace.token_expires_at = locked.token_expires_at
    return _stored_tokens(workspace)


def connection_check(*, workspace: Workspace) -> None:
    """Prove the workspace's token still works; a rejected one marks Needs reconnect."""
    adapter = inbox_adapter(workspace.provider)
    with inbox_call(workspace):
        adapter.check(tokens=workspace_tokens(workspace=workspace))


def connection_disconnect(*, workspace: Workspace) -> None:
    """Give the credentials up where the provider allows, then stop using them."""
    adapter = inbox_adapter(workspace.provider)
    if workspace.access_token or workspace.refresh_token:
        try:
            adapter.revoke(tokens=_stored_tokens(workspace))
        except ProviderError as error:
            # Disconnecting must work even when the provider is down or the grant is
            # already gone; we forget the tokens either way.
            logger.warning("could not revoke workspace %s: %s", workspace.pk, error.message)
    workspace_disconnect(workspace=workspace)
