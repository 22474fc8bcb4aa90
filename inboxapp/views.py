"""Intercom Canvas Kit endpoints of the Octopods inbox app (the conversation details
panel): initialize and submit. Both go through ``canvas_endpoint``, the one skeleton of
a sidebar-app request: size guard, raw-body signature, parse, workspace, answer."""

import hashlib
import hmac
import json
import logging
import re
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.decorators import account_role
from integrations.channel import MalformedPayload
from integrations.payload import load_json
from integrations.webhook_guard import body_refusal, digests_equal
from octopods.logs import correlated
from workspaces.models import Provider, Workspace

from . import canvas, flow
from .flow import CanvasRequest
from .selectors import canvas_workspace, workspace_usable
from .services import inbox_app_settings_set

logger = logging.getLogger(__name__)

# A JSON "\u0000" escape (preceded by an even run of backslashes, so it is one):
# load_json makes it U+FFFD, which would then go to a customer unnoticed.
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")

NOT_CONNECTED = (
    "This Intercom workspace is not connected to Octopods. An Octopods admin can connect "
    "it on the Connected Workspaces page; the panel works once it is."
)
DISCONNECTED = (
    "This Intercom workspace's connection to Octopods is {status}. An Octopods admin can "
    "reconnect it on the Connected Workspaces page; until then the panel cannot send."
)


def _plain(status: int, reason: str) -> HttpResponse:
    return HttpResponse(reason, status=status, content_type="text/plain")


def _signature_refusal(body: bytes, given: str) -> HttpResponse | None:
    """Intercom signs every Canvas Kit request: X-Body-Signature is the hex HMAC-SHA256
    of the raw body with the app's OAuth client secret (Canvas Kit docs, "Request
    signing")."""
    secret = settings.INTERCOM_CLIENT_SECRET
    if not secret:
        return _plain(403, "The inbox app is not configured here (no Intercom client secret).")
    if not given:
        return _plain(401, "Missing X-Body-Signature header.")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not digests_equal(expected, given.strip().lower()):
        return _plain(403, "Bad signature.")
    return None


def _nul_in_input(body: bytes) -> bool:
    if not _NUL_ESCAPE.search(body):
        return False
    inputs = json.loads(body).get("input_values")  # load_json has vetted the body
    return isinstance(inputs, dict) and any(
        isinstance(value, str) and "\x00" in value for value in inputs.values()
    )


def canvas_endpoint(handler):
    @csrf_exempt  # signed by Intercom with the app's client secret
    @correlated  # a message sent from the panel keeps its id to the channel's call
    @require_POST
    @wraps(handler)
    def view(request):
        if refusal := body_refusal(request, max_bytes=settings.WEBHOOK_MAX_BYTES):
            return refusal
        body = request.body
        if refusal := _signature_refusal(body, request.headers.get("X-Body-Signature", "")):
            return refusal
        try:
            payload = load_json(body)
        except MalformedPayload as error:
            return _plain(400, f"Malformed Canvas Kit request: {error}.")
        # Only the top level is read here; the flow reads the rest leniently (a field of
        # another shape is as good as absent), so there is no model to hold it to.
        if not isinstance(payload, dict):
            return _plain(400, "Malformed Canvas Kit request: request is not an object.")
        workspace_id = payload.get("workspace_id")
        if not isinstance(workspace_id, str) or not workspace_id:
            return _plain(400, "Malformed Canvas Kit request: workspace_id is not a string.")
        # Never cut to fit: a cut id could be another workspace's.
        workspace = canvas_workspace(workspace_id=workspace_id) if len(workspace_id) <= 64 else None
        if workspace is None:
            logger.info("canvas request for unknown Intercom workspace %r", workspace_id[:64])
            return JsonResponse(canvas.problem(NOT_CONNECTED))
        if not workspace_usable(workspace):
            status = workspace.get_status_display().lower()
            return JsonResponse(canvas.problem(DISCONNECTED.format(status=status)))
        request_ = CanvasRequest(
            workspace=workspace, payload=payload, nul_in_input=_nul_in_input(body)
        )
        return JsonResponse(handler(request_))

    return view


@canvas_endpoint
def initialize(request: CanvasRequest) -> dict:
    return flow.initialize(request)


@canvas_endpoint
def submit(request: CanvasRequest) -> dict:
    return flow.submit(request)


# --- the workspace page's inbox app settings (a person's page, not a Canvas Kit call) --


class SettingsForm(forms.Form):
    assign_answer_to_sender = forms.BooleanField(required=False)


@require_POST
@account_role("admin")
def settings_save(request, pk):
    workspace = get_object_or_404(
        Workspace.objects.for_account(request.account), pk=pk, provider=Provider.INTERCOM
    )
    form = SettingsForm(request.POST)
    form.is_valid()  # a lone optional checkbox: always valid
    inbox_app_settings_set(
        workspace=workspace,
        assign_answer_to_sender=form.cleaned_data["assign_answer_to_sender"],
    )
    messages.success(request, "Inbox app settings saved.")
    return redirect("workspaces:detail", pk=workspace.pk)
