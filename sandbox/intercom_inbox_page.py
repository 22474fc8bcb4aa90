"""The inbox page: a person reads a fake workspace's conversations and answers as one of
its admins. Each reply, note, close or reopen is stored as a part and then sent to
Octopods as Intercom's signed webhook (PROVIDERS.md §1.6), and the page shows what
Octopods answered."""

import hashlib
import hmac
import html
import json
import re
import uuid
from dataclasses import dataclass

import requests
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import strip_tags
from django.views.decorators.http import require_GET, require_POST

from .directory import INTERCOM_WORKSPACES, IntercomWorkspace, intercom_workspace
from .intercom_inbox import conversation_json, workspace_admin
from .intercom_inbox_app import shown_canvas
from .models import IntercomContact, IntercomConversation, IntercomPart
from .views import problem

PROVIDER = "Intercom"
WEBHOOK_PATH = "/hooks/intercom/"
WEBHOOK_TIMEOUT = 5  # Intercom waits 5 s for an answer
USER_AGENT = "intercom-parrot-service-client/1.0"
MAX_REPLY = 10_000
Part = IntercomPart
State = IntercomConversation.State

TOPICS = {
    Part.Type.COMMENT: "conversation.admin.replied",
    Part.Type.NOTE: "conversation.admin.noted",
    Part.Type.CLOSE: "conversation.admin.closed",
    Part.Type.OPEN: "conversation.admin.opened",
}
ACTIONS = {
    "comment": Part.Type.COMMENT,
    "note": Part.Type.NOTE,
    "close": Part.Type.CLOSE,
    "open": Part.Type.OPEN,
}


def webhook_url() -> str:
    """The app's webhook endpoint: Intercom sends every workspace's events to one URL."""
    return settings.PUBLIC_BASE_URL + WEBHOOK_PATH


# --- the webhook ----------------------------------------------------------------------


def html_body(text: str) -> str:
    """What Intercom makes of text typed in its composer: a paragraph per line."""
    lines = [line.strip() for line in text.strip().splitlines()]
    return "".join(f"<p>{html.escape(line, quote=False)}</p>" for line in lines if line)


def notification(workspace: IntercomWorkspace, part: IntercomPart) -> dict:
    created = int(part.created_at.timestamp())
    conversation = part.conversation
    return {
        "type": "notification_event",
        "app_id": workspace.id_code,
        "data": {
            "type": "notification_event_data",
            "item": conversation_json(conversation, [part]),
        },
        "links": {},
        "id": part.notification_id,
        "topic": part.notification_topic,
        "delivery_status": "pending",
        "delivery_attempts": part.delivery_attempts,
        "delivered_at": 0,
        # The part is sent as soon as it is stored; a redelivery keeps the first time.
        "first_sent_at": created,
        "created_at": created,
        "self": None,
    }


def signature(body: bytes) -> str:
    digest = hmac.new(settings.INTERCOM_CLIENT_SECRET.encode(), body, hashlib.sha1).hexdigest()
    return f"sha1={digest}"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    text: str


def deliver(workspace: IntercomWorkspace, part: IntercomPart) -> Outcome:
    """POST the part's notification to Octopods and record the answer on the part; never
    raises for an endpoint that fails or is down."""
    part.delivery_attempts += 1
    body = json.dumps(notification(workspace, part), separators=(",", ":"), ensure_ascii=False)
    raw = body.encode()
    url = webhook_url()
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
        "X-Hub-Signature": signature(raw),
    }
    try:
        response = requests.post(url, data=raw, headers=headers, timeout=WEBHOOK_TIMEOUT)
    except requests.RequestException as error:
        outcome = Outcome(False, f"Could not reach Octopods at {url}: {error}")
    else:
        if 200 <= response.status_code < 300:
            outcome = Outcome(True, f"Octopods answered {response.status_code}.")
        else:
            answer = " ".join(response.text.split())[:300] or "(empty body)"
            outcome = Outcome(False, f"Octopods answered {response.status_code}: {answer}")
    part.webhook_outcome, part.webhook_ok = outcome.text, outcome.ok
    part.save(update_fields=["delivery_attempts", "webhook_outcome", "webhook_ok"])
    return outcome


# --- what the page shows ------------------------------------------------------------------


def plain_text(body: str) -> str:
    """A part's HTML body as the text a person reads (the template escapes it again)."""
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>", "\n", body or "")
    return html.unescape(strip_tags(text)).strip()


@dataclass(frozen=True)
class Shown:
    part: IntercomPart
    kind: str  # customer, agent, note or event
    text: str
    images: list
    files: list


def _shown(part: IntercomPart) -> Shown:
    if part.author_type != Part.Author.ADMIN:
        kind = "customer"
    elif part.part_type == Part.Type.NOTE:
        kind = "note"
    elif part.part_type in (Part.Type.COMMENT, Part.Type.SOURCE):
        # SOURCE: a conversation a teammate opened with a message (POST /messages).
        kind = "agent"
    else:
        kind = "event"
    images = [a for a in part.attachments if str(a.get("content_type", "")).startswith("image/")]
    files = [a for a in part.attachments if a not in images]
    return Shown(part, kind, plain_text(part.body), images, files)


def _workspace(id_code: str) -> IntercomWorkspace | None:
    return intercom_workspace(id_code)


def _unknown(request, id_code: str):
    return problem(
        request,
        "Unknown workspace",
        f"No fake Intercom workspace has the id_code “{id_code}”.",
        provider=PROVIDER,
        status=404,
    )


@require_GET
def inbox(request):
    counts = {
        w.id_code: IntercomConversation.objects.filter(workspace=w.id_code).count()
        for w in INTERCOM_WORKSPACES
    }
    return render(
        request,
        "sandbox/intercom_inbox.html",
        {
            "provider": PROVIDER,
            "workspaces": [(w, counts[w.id_code]) for w in INTERCOM_WORKSPACES],
            "webhook_url": webhook_url(),
        },
    )


@require_GET
def workspace_inbox(request, id_code):
    workspace = _workspace(id_code)
    if workspace is None:
        return _unknown(request, id_code)
    last = IntercomPart.objects.filter(conversation=OuterRef("pk")).order_by("-created_at", "-pk")
    conversations = (
        IntercomConversation.objects.filter(workspace=workspace.id_code)
        .select_related("contact")
        .prefetch_related("tags")
        .annotate(last_body=Subquery(last.values("body")[:1]))
        .annotate(last_type=Subquery(last.values("part_type")[:1]))
        .annotate(last_author=Subquery(last.values("author_type")[:1]))
        .order_by("-updated_at", "-pk")
    )
    rows = [
        {
            "conversation": c,
            "last_text": plain_text(c.last_body) or Part.Type(c.last_type).label,
            "last_who": _who(c.last_author, c.last_type),
        }
        for c in conversations
    ]
    return render(
        request,
        "sandbox/intercom_inbox_list.html",
        {
            "provider": PROVIDER,
            "workspace": workspace,
            "workspaces": INTERCOM_WORKSPACES,
            "rows": rows,
        },
    )


def _who(author_type: str | None, part_type: str | None) -> str:
    if author_type != Part.Author.ADMIN:
        return "Customer"
    return "Note" if part_type == Part.Type.NOTE else "Teammate"


def _session_key(workspace: IntercomWorkspace) -> str:
    return f"sandbox:intercom:admin:{workspace.id_code}"


@require_GET
def conversation(request, id_code, pk):
    workspace = _workspace(id_code)
    if workspace is None:
        return _unknown(request, id_code)
    chat = (
        IntercomConversation.objects.filter(workspace=workspace.id_code, pk=pk)
        .select_related("contact")
        .first()
    )
    if chat is None:
        return _missing(request, workspace)
    return render(
        request,
        "sandbox/intercom_inbox_conversation.html",
        {
            "provider": PROVIDER,
            "workspace": workspace,
            "chat": chat,
            "contact": chat.contact,
            "tags": chat.tags.all(),
            "parts": [_shown(p) for p in chat.parts.all()],
            "admins": workspace.admins,
            "chosen_admin": request.session.get(_session_key(workspace), ""),
            "webhook_url": webhook_url(),
            "canvas": shown_canvas(request, workspace, chat),
        },
    )


@require_GET
def contact(request, id_code, contact_id):
    """A contact's page: who they are, their conversations, and the Octopods app, which
    Intercom also shows on a contact (its request names the contact, no conversation)."""
    workspace = _workspace(id_code)
    if workspace is None:
        return _unknown(request, id_code)
    person = IntercomContact.objects.filter(
        workspace=workspace.id_code, intercom_id=contact_id
    ).first()
    if person is None:
        return problem(
            request,
            "No such contact",
            f"{workspace.name} has no contact with that id.",
            provider=PROVIDER,
            status=404,
        )
    return render(
        request,
        "sandbox/intercom_inbox_contact.html",
        {
            "provider": PROVIDER,
            "workspace": workspace,
            "contact": person,
            "conversations": IntercomConversation.objects.filter(
                workspace=workspace.id_code, contact=person
            ).order_by("-updated_at", "-pk"),
            "admins": workspace.admins,
            "chosen_admin": request.session.get(_session_key(workspace), ""),
            "canvas": shown_canvas(request, workspace, person),
        },
    )


def _missing(request, workspace: IntercomWorkspace):
    return problem(
        request,
        "No such conversation",
        f"{workspace.name} has no conversation with that id.",
        provider=PROVIDER,
        status=404,
    )


def _flash(request, outcome: Outcome, what: str) -> None:
    if outcome.ok:
        messages.success(request, f"{what} {outcome.text}")
    else:
        messages.error(request, f"{what} {outcome.text}")


@require_POST
def act(request, id_code, pk):
    """Reply, add a note, close or reopen as an admin; then send the webhook."""
    workspace = _workspace(id_code)
    if workspace is None:
        return _unknown(request, id_code)
    chat = IntercomConversation.objects.filter(workspace=workspace.id_code, pk=pk).first()
    if chat is None:
        return _missing(request, workspace)
    back = redirect("sandbox:intercom_inbox_conversation", id_code=workspace.id_code, pk=chat.pk)

    admin = workspace_admin(workspace, request.POST.get("admin_id", ""))
    if admin is None:
        messages.error(request, f"Choose a teammate of {workspace.name} to act as.")
        return back
    request.session[_session_key(workspace)] = admin.id
    part_type = ACTIONS.get(request.POST.get("action", ""))
    if part_type is None:
        messages.error(request, "Choose Reply, Add note, Close or Reopen.")
        return back
    text = request.POST.get("body", "").strip()
    if part_type in (Part.Type.COMMENT, Part.Type.NOTE) and not text:
        messages.error(request, "Write the reply or note first.")
        return back
    if len(text) > MAX_REPLY:
        messages.error(request, f"Keep it under {MAX_REPLY:,} characters.")
        return back
    if part_type == Part.Type.CLOSE and chat.state == State.CLOSED:
        messages.error(request, "The conversation is already closed.")
        return back
    if part_type == Part.Type.OPEN and chat.state == State.OPEN:
        messages.error(request, "The conversation is already open.")
        return back

    now = timezone.now()
    with transaction.atomic():
        part = IntercomPart.objects.create(
            conversation=chat,
            part_type=part_type,
            body=html_body(text),
            author_type=Part.Author.ADMIN,
            author_id=admin.id,
            author_name=admin.name,
            author_email=admin.email,
            app_package_code="",
            created_at=now,
            notification_id=f"notif_{uuid.uuid4()}",
            notification_topic=TOPICS[part_type],
        )
        chat.updated_at = now
        if part_type == Part.Type.COMMENT:
            chat.waiting_since = None
            chat.read = True
        elif part_type == Part.Type.CLOSE:
            chat.state = State.CLOSED
        elif part_type == Part.Type.OPEN:
            chat.state = State.OPEN
            chat.snoozed_until = None
        chat.save()
    what = {
        Part.Type.COMMENT: f"Replied as {admin.name}.",
        Part.Type.NOTE: f"Note added as {admin.name}.",
        Part.Type.CLOSE: f"Closed as {admin.name}.",
        Part.Type.OPEN: f"Reopened as {admin.name}.",
    }[part_type]
    _flash(request, deliver(workspace, part), what)
    return back


@require_POST
def redeliver(request, id_code, pk, part_pk):
    """Send a part's webhook again with the same notification id, as Intercom's retry
    does, so Octopods' de-duplication can be seen at work."""
    workspace = _workspace(id_code)
    if workspace is None:
        return _unknown(request, id_code)
    part = (
        IntercomPart.objects.filter(
            conversation__workspace=workspace.id_code, conversation_id=pk, pk=part_pk
        )
        .exclude(notification_id="")
        .select_related("conversation__contact")
        .first()
    )
    if part is None:
        return _missing(request, workspace)
    _flash(request, deliver(workspace, part), "Sent the webhook again.")
    return redirect("sandbox:intercom_inbox_conversation", id_code=workspace.id_code, pk=pk)
