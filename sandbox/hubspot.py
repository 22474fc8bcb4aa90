"""A stand-in for HubSpot's OAuth (v1 token endpoints, with PKCE). PROVIDERS.md §2.1."""

import base64
import hashlib
import hmac
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from . import tokens
from .directory import HUBSPOT_APP_ID, HUBSPOT_PORTALS, HubSpotPortal, hubspot_portal
from .views import problem, redirect_uri_problem, redirect_with

PROVIDER = "HubSpot"
CODE_MAX_AGE = 5 * 60
ACCESS_TOKEN_LIFETIME = 1800


def _matches(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _refresh_subject(claims: dict) -> str:
    return f"hubspot-refresh:{claims['n']}"


def s256(verifier: str) -> str:
    """PKCE S256: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def oauth_error(status: str, message: str, error: str = "invalid_grant") -> JsonResponse:
    return JsonResponse(
        {
            "status": status,
            "message": message,
            "correlationId": str(uuid.uuid4()),
            "error": error,
            "error_description": message,
        },
        status=400,
    )


def not_found(message: str) -> JsonResponse:
    return JsonResponse(
        {"status": "error", "message": message, "correlationId": str(uuid.uuid4())}, status=404
    )


# --- Authorize ------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def authorize(request):
    """The consent screen: pick a portal (account), then Approve or Deny."""
    params = request.POST if request.method == "POST" else request.GET
    client_id = params.get("client_id", "")
    redirect_uri = params.get("redirect_uri", "")
    state = params.get("state")
    scope = " ".join(params.get("scope", "").split())
    optional_scope = " ".join(params.get("optional_scope", "").split())
    code_challenge = params.get("code_challenge", "")
    method = params.get("code_challenge_method", "")
    if not _matches(client_id, settings.HUBSPOT_CLIENT_ID):
        return problem(
            request,
            "Unknown app",
            f"No HubSpot app has the client_id “{client_id}”. The sandbox only knows the "
            "one in the HUBSPOT_CLIENT_ID setting.",
            provider=PROVIDER,
        )
    if reason := redirect_uri_problem(redirect_uri):
        return problem(request, "Bad redirect_uri", reason, provider=PROVIDER)
    if not scope:
        return problem(request, "No scopes", "The request has no scope.", provider=PROVIDER)
    if code_challenge and method != "S256":
        return problem(
            request,
            "Unsupported code_challenge_method",
            "The sandbox supports only code_challenge_method=S256.",
            provider=PROVIDER,
        )
    scopes = [*scope.split(), *optional_scope.split()]

    if request.method == "GET":
        hidden = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "optional_scope": optional_scope or None,
            "state": state,
            "code_challenge": code_challenge or None,
            "code_challenge_method": method if code_challenge else None,
        }
        return render(
            request,
            "sandbox/consent.html",
            {
                "provider": PROVIDER,
                "app_label": "Octopods",
                "choice_legend": "Account to connect",
                "choices": [
                    (p.hub_id, p.hub_domain, f"Hub ID {p.hub_id} · {p.user}")
                    for p in HUBSPOT_PORTALS
                ],
                "access_heading": "Octopods is asking for these scopes",
                "access": scopes,
                "hidden": hidden,
                "return_host": urlsplit(redirect_uri).netloc,
            },
        )

    if request.POST.get("decision") == "deny":
        return redirect_with(
            redirect_uri,
            error="access_denied",
            error_description="The user denied the app access to their account.",
            state=state,
        )
    choice = request.POST.get("choice", "")
    portal = hubspot_portal(int(choice)) if choice.isdigit() else None
    if portal is None:
        return problem(request, "No account chosen", "Choose an account.", provider=PROVIDER)
    code = tokens.issue(
        "hubspot.code",
        hub=portal.hub_id,
        client_id=client_id,
        redirect_uri=redirect_uri,
        cc=code_challenge,
        scopes=scopes,
    )
    return redirect_with(redirect_uri, code=code, state=state)


# --- Token ----------------------------------------------------------------------------


def _access_token(claims: dict) -> str:
    return tokens.issue("hubspot.access", hub=claims["hub"], scopes=claims["scopes"])


def _token_response(access_token: str, refresh_token: str) -> JsonResponse:
    return JsonResponse(
        {
            "access_token": access_token,
            "refresh_token": refresh_token,
            "expires_in": ACCESS_TOKEN_LIFETIME,
            "token_type": "bearer",
        }
    )


@csrf_exempt
@require_POST
def token(request):
    """POST /oauth/v1/token (form-encoded): authorization_code and refresh_token grants."""
    params = request.POST
    client_id = params.get("client_id", "")
    grant_type = params.get("grant_type", "")
    if grant_type not in ("authorization_code", "refresh_token"):
        return oauth_error(
            "BAD_GRANT_TYPE",
            "grant_type must be authorization_code or refresh_token.",
            "unsupported_grant_type",
        )
    if not _matches(client_id, settings.HUBSPOT_CLIENT_ID):
        return oauth_error("BAD_CLIENT_ID", "missing or unknown client id", "invalid_client")
    if not _matches(params.get("client_secret", ""), settings.HUBSPOT_CLIENT_SECRET):
        return oauth_error(
            "BAD_CLIENT_SECRET", "missing or invalid client secret", "invalid_client"
        )
    if grant_type == "refresh_token":
        return _refresh(params, client_id)

    claims = tokens.read("hubspot.code", params.get("code", ""), max_age=CODE_MAX_AGE)
    if claims is None or claims.get("client_id") != client_id:
        return oauth_error("BAD_AUTH_CODE", "missing or unknown auth code")
    if params.get("redirect_uri", "") != claims.get("redirect_uri"):
        return oauth_error(
            "BAD_REDIRECT_URI", "redirect_uri does not match the one the code was issued for"
        )
    if claims.get("cc") and not _matches(s256(params.get("code_verifier", "")), claims["cc"]):
        return oauth_error("BAD_AUTH_CODE", "code_verifier does not match the code_challenge")
    if hubspot_portal(claims.get("hub")) is None:
        return oauth_error("BAD_AUTH_CODE", "missing or unknown auth code")
    if not tokens.use_once("hubspot.code", claims):
        return oauth_error("BAD_AUTH_CODE", "auth code has already been used")
    refresh_token = tokens.issue(
        "hubspot.refresh", hub=claims["hub"], scopes=claims["scopes"], client_id=client_id
    )
    return _token_response(_access_token(claims), refresh_token)


def refresh_token_claims(value: str) -> dict | None:
    claims = tokens.read("hubspot.refresh", value)
    if claims is None or tokens.is_revoked(_refresh_subject(claims), claims["iat"]):
        return None
    return claims


def _refresh(params, client_id: str) -> JsonResponse:
    refresh_token = params.get("refresh_token", "")
    claims = refresh_token_claims(refresh_token)
    if claims is None or claims.get("client_id") != client_id:
        return oauth_error("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
    return _token_response(_access_token(claims), refresh_token)


# --- Token info and revocation --------------------------------------------------------


def access_token_claims(value: str) -> dict | None:
    """The claims of a live access token, or None if forged or expired."""
    return tokens.read("hubspot.access", value, max_age=ACCESS_TOKEN_LIFETIME)


def _portal_of(claims: dict | None) -> HubSpotPortal | None:
    return hubspot_portal(claims.get("hub")) if claims else None


@require_http_methods(["GET"])
def access_token_info(request, token):
    claims = access_token_claims(token)
    portal = _portal_of(claims)
    if portal is None:
        return not_found("The access token is invalid or has expired.")
    expires_in = int(claims["iat"] + ACCESS_TOKEN_LIFETIME - tokens.now())
    return JsonResponse(
        {
            "token": token,
            "user": portal.user,
            "hub_domain": portal.hub_domain,
            "scopes": claims["scopes"],
            "hub_id": portal.hub_id,
            "app_id": HUBSPOT_APP_ID,
            "expires_in": max(expires_in, 0),
            "user_id": portal.user_id,
            "token_type": "access",
        }
    )


@csrf_exempt
@require_http_methods(["DELETE"])
def delete_refresh_token(request, token):
    claims = refresh_token_claims(token)
    if claims is None:
        return not_found("The refresh token is invalid or was already deleted.")
    tokens.revoke(_refresh_subject(claims))
    return HttpResponse(status=204)
