"""The Octopods inbox app in the sandbox inbox, beside a conversation and on a contact's
page: the page posts Intercom's signed Canvas Kit requests (initialize when a teammate
opens the app, submit on each button) to Octopods and renders the canvas it answers, as
Intercom's inbox does. The canvas on show is kept in the session, per conversation or
contact, as Intercom keeps ``current_canvas`` to send back with the next submit.

On a contact's page the request carries the contact and no conversation: no
``conversation`` object and no ``context.conversation_id``. Intercom's Canvas Kit
reference documents ``context.location`` only as conversation, home, message or
operator, so the sandbox sends none there and the app goes by the missing
conversation, never by a location value."""

import hashlib
import hmac
import json
import re

import requests
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from .directory import IntercomWorkspace, intercom_workspace
from .intercom_inbox import contact_json, conversation_json, workspace_admin
from .models import IntercomContact, IntercomConversation

INITIALIZE_PATH = "/hooks/intercom/canvas/initialize/"
SUBMIT_PATH = "/hooks/intercom/canvas/submit/"
TIMEOUT = 10  # Intercom gives a Canvas Kit app about this long
# What a teammate may type into one input of the panel (the app bounds it again).
INPUT_MAX = 2000


def _session_key(workspace: IntercomWorkspace, place) -> str:
    if isinstance(place, IntercomContact):
        return f"sandbox:intercom:canvas:{workspace.id_code}:contact:{place.intercom_id}"
    return f"sandbox:intercom:canvas:{workspace.id_code}:{place.pk}"


def shown_canvas(request, workspace: IntercomWorkspace, place):
    """The app's canvas on show for this conversation or contact, as components the
    page renders; None before the teammate opens the app."""
    canvas = request.session.get(_session_key(workspace, place))
    if not isinstance(canvas, dict):
        return None
    components = canvas.get("content", {}).get("components", [])
    return [_component(each) for each in components if isinstance(each, dict)]


def _component(component: dict) -> dict:
    shown = {key: component.get(key) for key in ("type", "id", "label", "value", "placeholder")}
    shown["style"] = component.get("style") or ""
    if component.get("type") == "text":
        shown["html"] = markdown(str(component.get("text") or ""))
    shown["error"] = bool(component.get("error"))
    shown["disabled"] = bool(component.get("disabled"))
    return shown


_ESCAPED = re.compile(r"\\(.)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def markdown(text: str) -> str:
    """The little of Canvas Kit's Markdown the app uses: **bold**, backslash escapes and
    line breaks; everything else is shown as typed."""
    placeholders: list[str] = []

    def keep(match):
        placeholders.append(match.group(1))
        return f"\x00{len(placeholders) - 1}\x00"

    kept = _ESCAPED.sub(keep, text)
    html = _BOLD.sub(lambda m: f"<strong>{m.group(1)}</strong>", escape(kept))
    html = re.sub(r"\x00(\d+)\x00", lambda m: escape(placeholders[int(m.group(1))]), html)
    return mark_safe(html.replace("\n", "<br>"))  # noqa: S308 - every part escaped above


def _payload(workspace: IntercomWorkspace, place, admin) -> dict:
    payload = {
        "workspace_id": workspace.id_code,
        "workspace_region": workspace.region.lower(),
        "admin": {"type": "admin", "id": admin.id, "name": admin.name, "email": admin.email},
        "card_creation_options": {},
    }
    if isinstance(place, IntercomContact):
        payload.update(context={"locale": "en"}, contact=contact_json(place))
    else:
        payload.update(
            context={"conversation_id": place.pk, "location": "conversation", "locale": "en"},
            conversation=conversation_json(place),
            contact=contact_json(place.contact),
        )
    return payload


def signature(body: bytes) -> str:
    """Canvas Kit's request signature: hex HMAC-SHA256 of the body, client secret."""
    return hmac.new(settings.INTERCOM_CLIENT_SECRET.encode(), body, hashlib.sha256).hexdigest()


def _post(path: str, payload: dict) -> tuple[dict | None, str]:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    url = settings.PUBLIC_BASE_URL + path
    headers = {"Content-Type": "application/json", "X-Body-Signature": signature(body)}
    try:
        response = requests.post(url, data=body, headers=headers, timeout=TIMEOUT)
    except requests.RequestException as error:
        return None, f"Could not reach the Octopods app at {url}: {error}"
    if response.status_code != 200:
        answer = " ".join(response.text.split())[:300] or "(empty body)"
        return None, f"The Octopods app answered {response.status_code}: {answer}"
    try:
        canvas = response.json()["canvas"]
        if not isinstance(canvas["content"]["components"], list):
            raise TypeError("components is not a list")
    except (ValueError, KeyError, TypeError):
        return None, "The Octopods app answered something that is not a canvas."
    return canvas, ""


@require_POST
def app(request, id_code, pk):
    """Open the app beside a conversation (initialize) or click one of its buttons
    (submit)."""
    workspace = intercom_workspace(id_code)
    chat = (
        IntercomConversation.objects.filter(workspace=id_code, pk=pk)
        .select_related("contact")
        .first()
        if workspace is not None
        else None
    )
    if chat is None:
        messages.error(request, "No such conversation.")
        return redirect("sandbox:intercom_inbox")
    _answer(request, workspace, chat)
    return redirect("sandbox:intercom_inbox_conversation", id_code=workspace.id_code, pk=chat.pk)


@require_POST
def contact_app(request, id_code, contact_id):
    """The same, on a contact's page: the request names the contact and no
    conversation."""
    workspace = intercom_workspace(id_code)
    contact = (
        IntercomContact.objects.filter(workspace=id_code, intercom_id=contact_id).first()
        if workspace is not None
        else None
    )
    if contact is None:
        messages.error(request, "No such contact.")
        return redirect("sandbox:intercom_inbox")
    _answer(request, workspace, contact)
    return redirect(
        "sandbox:intercom_inbox_contact", id_code=workspace.id_code, contact_id=contact_id
    )


def _answer(request, workspace: IntercomWorkspace, place) -> None:
    admin = workspace_admin(workspace, request.POST.get("admin_id", "")) or workspace.admins[0]
    key = _session_key(workspace, place)
    payload = _payload(workspace, place, admin)
    component_id = request.POST.get("component_id", "")
    current = request.session.get(key)
    if component_id and isinstance(current, dict):
        inputs = {
            each["id"]: request.POST.get(each["id"], "")[:INPUT_MAX]
            for each in current.get("content", {}).get("components", [])
            if isinstance(each, dict) and each.get("type") in ("input", "textarea")
        }
        payload.update(
            component_id=component_id,
            input_values=inputs,
            current_canvas=current,
            user=payload["contact"],
        )
        canvas, problem = _post(SUBMIT_PATH, payload)
    else:
        canvas, problem = _post(INITIALIZE_PATH, payload)
    if canvas is None:
        messages.error(request, problem)
    else:
        request.session[key] = canvas
