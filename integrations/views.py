"""Connecting an inbox by OAuth (start → provider → callback), disconnecting, checking,
and Intercom's uninstall notice."""

import hashlib
import hmac
import logging
import secrets
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST
from oauthlib.oauth2.rfc6749.clients.base import Client as OAuthClient

from accounts.decorators import account_role
from accounts.models import Membership, Role
from accounts.selectors import SESSION_ACCOUNT_KEY
from workspaces.models import Provider, Workspace
from workspaces.services import WorkspaceConflict, workspace_uninstalled

from .base import ProviderError
from .channel import MalformedPayload
from .payload import load_json
from .registry import inbox_adapter
from .services import connection_check, connection_complete, connection_disconnect
from .webhook_guard import body_refusal, digests_equal

logger = logging.getLogger(__name__)

SESSION_PENDING_KEY = "oauth_pending"
STATE_LIFETIME = 600  # seconds
UNKNOWN_ERROR = (
    "It looks like an unknown error occurred. Please contact us to help you fix this problem."
)
# Intercom's uninstall notice is tiny ({"app_id": "…"}); anything large is not one.
UNINSTALL_MAX_BYTES = 16 * 1024


def _indefinite(word: str) -> str:
    return "An" if word[:1].upper() in "AEIOU" else "A"


def _adapter_or_404(provider: str):
    if provider not in Provider.values:
        raise Http404("Unknown provider.")
    return inbox_adapter(provider)


def redirect_uri(provider: str) -> str:
    # Registered with the provider, so it comes from settings, never from the request.
    return settings.PUBLIC_BASE_URL + reverse("integrations:callback", args=[provider])


@require_POST
@account_role("admin")
def connect(request, provider):
    """Step 1: remember a single-use state in the session and send the admin away."""
    adapter = _adapter_or_404(provider)
    if not adapter.is_configured():
        return render(
            request,
            "integrations/not_configured.html",
            {"provider_label": adapter.label},
            status=503,
        )
    state = secrets.token_urlsafe(32)
    code_verifier = code_challenge = ""
    if adapter.uses_pkce:
        pkce = OAuthClient("octopods")
        code_verifier = pkce.create_code_verifier(64)
        code_challenge = pkce.create_code_challenge(code_verifier, "S256")
    now = time.time()
    pending = {
        key: value
        for key, value in request.session.get(SESSION_PENDING_KEY, {}).items()
        if now - value["created_at"] < STATE_LIFETIME
    }
    pending[state] = {
        "provider": provider,
        "account_id": request.account.pk,
        "user_id": request.user.pk,
        "code_verifier": code_verifier,
        "created_at": now,
    }
    request.session[SESSION_PENDING_KEY] = pending
    return redirect(
        adapter.authorization_url(
            state=state, redirect_uri=redirect_uri(provider), code_challenge=code_challenge
        )
    )


def _pop_pending(request, state: str) -> dict | None:
    """The pending connection ``state`` names, removed so it can never be used twice."""
    pending = request.session.get(SESSION_PENDING_KEY, {})
    match = next((key for key in pending if digests_equal(key, state)), None)
    if match is None:
        return None
    entry = pending.pop(match)
    request.session[SESSION_PENDING_KEY] = pending
    if time.time() - entry["created_at"] >= STATE_LIFETIME:
        return None
    return entry


def _state_problem(request, problem: str):
    return render(request, "integrations/state_problem.html", {"problem": problem}, status=400)


def _unknown_error(request, *, provider: str, detail: str):
    reference = secrets.token_hex(4).upper()
    logger.error("connecting %s failed (reference %s): %s", provider, reference, detail)
    return render(
        request,
        "integrations/unknown_error.html",
        {"message": UNKNOWN_ERROR, "reference": reference},
        status=502,
    )


@csrf_exempt  # the provider's redirect (Intercom may POST); `state` is the CSRF defence
@require_http_methods(["GET", "POST"])
@login_required
@sensitive_post_parameters("code")
@sensitive_variables("code", "entry")
def callback(request, provider):
    """Step 2: the provider sends the admin back with a code (or a refusal)."""
    adapter = _adapter_or_404(provider)
    params = request.POST if request.method == "POST" else request.GET
    state = params.get("state", "")
    entry = _pop_pending(request, state) if state else None
    if entry is None:
        return _state_problem(request, "expired")
    if entry["provider"] != provider or entry["user_id"] != request.user.pk:
        return _state_problem(request, "mismatch")
    # The user may have lost admin rights (or the account) while away at the provider.
    membership = (
        Membership.objects.select_related("account")
        .filter(user=request.user, account_id=entry["account_id"], role=Role.ADMIN)
        .first()
    )
    if membership is None:
        return render(
            request, "403.html", {"exception": "Only admins can connect workspaces."}, status=403
        )
    if params.get("error") == "access_denied":
        messages.error(
            request,
            f"Access was not approved, so the {adapter.label} workspace was not connected. "
            f"{_indefinite(adapter.label)} {adapter.label} admin must approve Octopods' access "
            "to connect it.",
        )
        return redirect("workspaces:index")
    code = params.get("code", "")
    if not code:
        return _unknown_error(
            request, provider=provider, detail=f"no code; error={params.get('error', '')!r}"
        )
    try:
        workspace, created = connection_complete(
            adapter=adapter,
            account=membership.account,
            user=request.user,
            code=code,
            redirect_uri=redirect_uri(provider),
            code_verifier=entry["code_verifier"],
        )
    except WorkspaceConflict:
        messages.error(request, adapter.conflict_message)
        return redirect("workspaces:index")
    except ProviderError as error:
        return _unknown_error(request, provider=provider, detail=error.message)
    request.session[SESSION_ACCOUNT_KEY] = membership.account_id
    if created:
        messages.success(request, f"{workspace.name} is connected. Add your first channel to it.")
    else:
        messages.success(request, f"{workspace.name} is reconnected.")
    return redirect("workspaces:index")


@require_POST
@account_role("admin")
def disconnect(request, pk):
    workspace = get_object_or_404(Workspace.objects.for_account(request.account), pk=pk)
    connection_disconnect(workspace=workspace)
    messages.success(
        request,
        f"{workspace.name} is disconnected. Its channels are kept; reconnect it to use them again.",
    )
    return redirect("workspaces:detail", pk=workspace.pk)


@require_POST
@account_role("admin")
def check(request, pk):
    workspace = get_object_or_404(Workspace.objects.for_account(request.account), pk=pk)
    try:
        connection_check(workspace=workspace)
    except ProviderError as error:
        if error.unauthorized:
            messages.error(
                request,
                f"{workspace.get_provider_display()} no longer accepts Octopods' access to "
                f"{workspace.name}. Reconnect it.",
            )
        else:
            messages.error(
                request,
                f"{workspace.get_provider_display()} could not be reached just now; "
                "try again in a minute.",
            )
    else:
        messages.success(request, f"The connection to {workspace.name} works.")
    return redirect("workspaces:detail", pk=workspace.pk)


@csrf_exempt  # signed by Intercom with the app's client secret
@require_POST
def intercom_uninstall(request):
    """Intercom's notice that a workspace uninstalled the app: verify, record, 200."""
    if refusal := body_refusal(request, max_bytes=UNINSTALL_MAX_BYTES):
        return refusal
    body = request.body
    expected = hmac.new(settings.INTERCOM_CLIENT_SECRET.encode(), body, hashlib.sha256).hexdigest()
    signature = request.headers.get("X-Body-Signature", "")
    if not settings.INTERCOM_CLIENT_SECRET or not digests_equal(expected, signature):
        return HttpResponseForbidden("Bad signature.")
    try:
        app_id = load_json(body)["app_id"]
    except (MalformedPayload, KeyError, TypeError):
        return HttpResponseBadRequest("Expected a JSON object with app_id.")
    if not isinstance(app_id, str) or not app_id:
        return HttpResponseBadRequest("app_id must be a non-empty string.")
    workspace_uninstalled(provider=Provider.INTERCOM, external_id=app_id)
    return HttpResponse("OK")
