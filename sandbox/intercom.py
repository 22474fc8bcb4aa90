"""A stand-in for Intercom's OAuth, identity API and uninstall notification.

PROVIDERS.md §1.2 (OAuth), §1.3 (/me, /admins), §1.7 (uninstall), §1.9 (errors).
"""

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import tokens
from .directory import (
    INTERCOM_PERMISSIONS,
    INTERCOM_WORKSPACES,
    IntercomAdmin,
    IntercomWorkspace,
    intercom_workspace,
)
from .views import problem, redirect_uri_problem, redirect_with

PROVIDER = "Intercom"
CODE_MAX_AGE = 5 * 60
UNINSTALL_TIMEOUT = 5


def _client_is_known(client_id: str) -> bool:
    expected = settings.INTERCOM_CLIENT_ID
    return bool(expected) and hmac.compare_digest(client_id.encode(), expected.encode())


def _secret_is_right(client_secret: str) -> bool:
    expected = settings.INTERCOM_CLIENT_SECRET
    return bool(expected) and hmac.compare_digest(client_secret.encode(), expected.encode())


def _revocation_subject(id_code: str) -> str:
    return f"intercom:{id_code}"


def error_list(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(
        {
            "type": "error.list",
            "request_id": str(uuid.uuid4()),
            "errors": [{"code": code, "message": message}],
        },
        status=status,
    )


# --- OAuth ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def authorize(request):
    """The consent screen: pick a workspace, then Approve or Deny."""
    params = request.POST if request.method == "POST" else request.GET
    client_id = params.get("client_id", "")
    redirect_uri = params.get("redirect_uri", "")
    state = params.get("state")
    if not _client_is_known(client_id):
        return problem(
            request,
            "Unknown app",
            f"No Intercom app has the client_id “{client_id}”. The sandbox only knows the "
            "one in the INTERCOM_CLIENT_ID setting.",
            provider=PROVIDER,
        )
    if reason := redirect_uri_problem(redirect_uri):
        return problem(request, "Bad redirect_uri", reason, provider=PROVIDER)

    if request.method == "GET":
        return render(
            request,
            "sandbox/consent.html",
            {
                "provider": PROVIDER,
                "app_label": "Octopods",
                "choice_legend": "Workspace to connect",
                "choices": [
                    (w.id_code, w.name, f"{w.id_code} · {w.region}") for w in INTERCOM_WORKSPACES
                ],
                "access_heading": "Octopods will be able to",
                "access": INTERCOM_PERMISSIONS,
                "hidden": {"client_id": client_id, "redirect_uri": redirect_uri, "state": state},
                "return_host": urlsplit(redirect_uri).netloc,
            },
        )

    if request.POST.get("decision") == "deny":
        return redirect_with(
            redirect_uri,
            error="access_denied",
            error_description="The user denied the app access to their workspace.",
            state=state,
        )
    workspace = intercom_workspace(request.POST.get("choice", ""))
    if workspace is None:
        return problem(request, "No workspace chosen", "Choose a workspace.", provider=PROVIDER)
    code = tokens.issue(
        "intercom.code", ws=workspace.id_code, client_id=client_id, redirect_uri=redirect_uri
    )
    return redirect_with(redirect_uri, code=code, state=state)


def _params(request) -> dict:
    """Token-exchange parameters from a JSON body, a form body or the query string."""
    body: dict = {}
    if request.content_type == "application/json":
        try:
            parsed = json.loads(request.body or b"{}")
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise ValueError("The request body is not a JSON object.")
        body = parsed
    else:
        body = request.POST
    names = ("code", "client_id", "client_secret")
    return {name: str(body.get(name) or request.GET.get(name) or "") for name in names}


@csrf_exempt
@require_POST
def token(request):
    """POST /auth/eagle/token: exchange a code for a token that never expires."""
    try:
        params = _params(request)
    except ValueError as error:
        return error_list(400, "parameter_invalid", str(error))
    if not (_client_is_known(params["client_id"]) and _secret_is_right(params["client_secret"])):
        return error_list(401, "unauthorized", "Invalid client_id or client_secret.")
    claims = tokens.read("intercom.code", params["code"], max_age=CODE_MAX_AGE)
    if claims is None or claims.get("client_id") != params["client_id"]:
        return error_list(400, "parameter_invalid", "The code is invalid or has expired.")
    if intercom_workspace(claims.get("ws", "")) is None:
        return error_list(400, "parameter_invalid", "The code is invalid or has expired.")
    if not tokens.use_once("intercom.code", claims):
        return error_list(400, "parameter_invalid", "The code has already been used.")
    access_token = tokens.issue("intercom.token", ws=claims["ws"])
    return JsonResponse(
        {"token": access_token, "access_token": access_token, "token_type": "Bearer"}
    )


# --- Identity API ---------------------------------------------------------------------


def workspace_for_token(value: str) -> IntercomWorkspace | None:
    """The workspace a token belongs to, or None if forged or revoked by an uninstall."""
    claims = tokens.read("intercom.token", value)
    if claims is None:
        return None
    if tokens.is_revoked(_revocation_subject(claims.get("ws", "")), claims["iat"]):
        return None
    return intercom_workspace(claims.get("ws", ""))


def _bearer(request) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _unauthorized() -> JsonResponse:
    return error_list(401, "unauthorized", "Access Token Invalid")


def _admin_json(admin: IntercomAdmin) -> dict:
    return {
        "type": "admin",
        "id": admin.id,
        "email": admin.email,
        "name": admin.name,
        "away_mode_enabled": False,
        "away_mode_reassign": False,
        "has_inbox_seat": True,
        "team_ids": [],
    }


@require_GET
def me(request):
    workspace = workspace_for_token(_bearer(request))
    if workspace is None:
        return _unauthorized()
    admin = workspace.admins[0]
    return JsonResponse(
        {
            **_admin_json(admin),
            "email_verified": True,
            "app": {
                "type": "app",
                "id_code": workspace.id_code,
                "name": workspace.name,
                "created_at": workspace.created_at,
                "secure": False,
                "identity_verification": False,
                "timezone": workspace.timezone,
                "region": workspace.region,
            },
            "avatar": {"type": "avatar", "image_url": None},
        }
    )


@require_GET
def admins(request):
    workspace = workspace_for_token(_bearer(request))
    if workspace is None:
        return _unauthorized()
    return JsonResponse(
        {"type": "admin.list", "admins": [_admin_json(a) for a in workspace.admins]}
    )


# --- Uninstall ------------------------------------------------------------------------


def uninstall_target_url() -> str:
    """Where Intercom would POST the uninstall notification: our app's uninstall URL."""
    return settings.PUBLIC_BASE_URL + reverse("integrations:intercom_uninstall")


def send_intercom_uninstall(id_code: str) -> int:
    """POST Intercom's signed uninstall notification for a workspace; our app's status.

    Raises NoReverseMatch while the product has no uninstall URL, and
    requests.RequestException when it can't be reached.
    """
    url = uninstall_target_url()
    body = json.dumps({"app_id": id_code}, separators=(",", ":")).encode()
    signature = hmac.new(settings.INTERCOM_CLIENT_SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = requests.post(
        url,
        data=body,
        headers={"Content-Type": "application/json", "X-Body-Signature": signature},
        timeout=UNINSTALL_TIMEOUT,
    )
    return response.status_code


@require_http_methods(["GET", "POST"])
def uninstall(request):
    """Uninstall Octopods from a fake workspace, as its admin would in Intercom."""
    if request.method == "GET":
        rows = []
        for workspace in INTERCOM_WORKSPACES:
            at = tokens.revoked_at(_revocation_subject(workspace.id_code))
            rows.append((workspace, datetime.fromtimestamp(at, UTC) if at else None))
        return render(
            request, "sandbox/intercom_uninstall.html", {"rows": rows, "provider": PROVIDER}
        )

    workspace = intercom_workspace(request.POST.get("id_code", ""))
    if workspace is None:
        return problem(request, "Unknown workspace", "No such workspace.", provider=PROVIDER)
    tokens.revoke(_revocation_subject(workspace.id_code))
    context = {"workspace": workspace, "provider": PROVIDER, "status": None, "failure": ""}
    try:
        context["target"] = uninstall_target_url()
        context["status"] = send_intercom_uninstall(workspace.id_code)
    except NoReverseMatch:
        context["failure"] = (
            "Octopods has no Intercom uninstall URL yet (the URL name "
            "“integrations:intercom_uninstall” does not exist), so nothing was sent. "
            "The workspace's tokens are revoked all the same."
        )
    except requests.RequestException as error:
        context["failure"] = f"Could not reach Octopods: {error}"
    return render(request, "sandbox/intercom_uninstall_result.html", context)
