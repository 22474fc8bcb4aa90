"""The HubSpot inbox page: a person reads a fake portal's custom-channel threads and
answers as one of its agents. A reply is stored as an OUTGOING message and sent to the
app as HubSpot's signed ``OUTGOING_CHANNEL_MESSAGE_CREATED`` webhook (PROVIDERS.md §2.3,
§2.4); the page shows what the app answered, and the SENT or FAILED status (with its
reason) the app reports afterwards through the API."""

import base64
import hashlib
import hmac
import html
import json
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import strip_tags
from django.views.decorators.http import require_GET, require_POST

from . import delivery
from .directory import HUBSPOT_PORTALS, HubSpotPortal, hubspot_agent, hubspot_inbox, hubspot_portal
from .hubspot_channels import iso, message_json
from .models import HubSpotMessage, HubSpotThread
from .views import problem

PROVIDER = "HubSpot"
WEBHOOK_PATH = "/hooks/hubspot/"
USER_AGENT = "HubSpot Connect 2.0 (http://dev.hubspot.com/)"
MAX_REPLY = 10_000
Direction = HubSpotMessage.Direction
Status = HubSpotMessage.Status


def webhook_url(thread: HubSpotThread | None = None) -> str:
    """Where HubSpot sends the thread's events: its channel's webhookUrl, else the app's
    one endpoint."""
    registered = thread.account.channel.webhook_url if thread else ""
    return registered or settings.PUBLIC_BASE_URL + WEBHOOK_PATH


# --- the webhook ----------------------------------------------------------------------


def rich_text(text: str) -> str:
    """What HubSpot's composer makes of typed text: a paragraph per line."""
    lines = [line.strip() for line in text.strip().splitlines()]
    return "".join(f"<p>{html.escape(line, quote=False)}</p>" for line in lines if line)


def event(message: HubSpotMessage) -> dict:
    account = message.account
    return {
        "type": "OUTGOING_CHANNEL_MESSAGE_CREATED",
        "portalId": str(account.portal),
        "channelId": str(account.channel_id),
        "eventTimestamp": iso(message.created_at),
        "message": {
            **message_json(message),
            # The app's own thread id, to find the customer by.
            "channelIntegrationThreadIds": [message.thread.integration_thread_id],
        },
    }


def signature_v3(*, method: str, url: str, body: bytes, timestamp: str) -> str:
    """X-HubSpot-Signature-v3: base64 HMAC-SHA256, keyed with the app's client secret,
    over method + URL + body + timestamp."""
    source = method.encode() + url.encode() + body + timestamp.encode()
    secret = settings.HUBSPOT_CLIENT_SECRET.encode()
    return base64.b64encode(hmac.new(secret, source, hashlib.sha256).digest()).decode()


def deliver(message: HubSpotMessage) -> delivery.Outcome:
    """POST the reply's event to the app and record the answer on the message; never
    raises for an endpoint that fails or is down."""
    # HubSpot batches events in an array; an agent's reply is one event.
    body = json.dumps([event(message)], separators=(",", ":"), ensure_ascii=False).encode()
    url = webhook_url(message.thread)
    timestamp = str(int(time.time() * 1000))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-HubSpot-Signature-v3": signature_v3(
            method="POST", url=url, body=body, timestamp=timestamp
        ),
        "X-HubSpot-Request-Timestamp": timestamp,
    }
    outcome = delivery.send("POST", url, body=body, headers=headers)
    message.delivery_attempts += 1
    message.webhook_outcome, message.webhook_ok = outcome.text, outcome.ok
    message.save(update_fields=["delivery_attempts", "webhook_outcome", "webhook_ok"])
    return outcome


# --- what the page shows ------------------------------------------------------------------


def customer_label(thread: HubSpotThread) -> str:
    identifier = thread.customer_identifier or {}
    return thread.customer_name or identifier.get("value") or thread.integration_thread_id


def message_text(message: HubSpotMessage) -> str:
    return message.text.strip() or html.unescape(strip_tags(message.rich_text)).strip()


def attachment_label(item: dict) -> str:
    kind = item.get("type", "")
    if kind == "FILE":
        return f"File {item.get('fileId')}"
    if kind == "LOCATION":
        place = item.get("name") or item.get("address") or ""
        where = f"{item.get('latitude')}, {item.get('longitude')}"
        return f"Location {place} ({where})" if place else f"Location ({where})"
    return kind.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Shown:
    message: HubSpotMessage
    kind: str  # customer, agent (typed here) or app (published by the app as the business)
    who: str
    text: str
    attachments: list[str]


def _shown(message: HubSpotMessage, thread: HubSpotThread) -> Shown:
    sender = message.senders[0] if message.senders else {}
    if message.direction == Direction.INCOMING:
        kind, who = "customer", f"{sender.get('name') or customer_label(thread)} (customer)"
    elif message.client == HubSpotMessage.Client.HUBSPOT:
        kind, who = "agent", f"{sender.get('name') or 'Agent'} (agent)"
    else:
        kind, who = "app", "Sent by the app"
    labels = [attachment_label(a) for a in message.attachments if isinstance(a, dict)]
    return Shown(message, kind, who, message_text(message), labels)


def _unknown(request, hub_id: int):
    return problem(
        request,
        "Unknown account",
        f"No fake HubSpot account has the hub id {hub_id}.",
        provider=PROVIDER,
        status=404,
    )


def _missing(request, portal: HubSpotPortal):
    return problem(
        request,
        "No such thread",
        f"{portal.hub_domain} has no thread with that id.",
        provider=PROVIDER,
        status=404,
    )


def _threads(portal: HubSpotPortal):
    return HubSpotThread.objects.filter(account__portal=portal.hub_id).select_related(
        "account__channel"
    )


@require_GET
def inbox(request):
    counts = {
        row["account__portal"]: row["n"]
        for row in HubSpotThread.objects.values("account__portal").annotate(n=Count("pk"))
    }
    return render(
        request,
        "sandbox/hubspot_inbox.html",
        {
            "provider": PROVIDER,
            "portals": [(p, counts.get(p.hub_id, 0)) for p in HUBSPOT_PORTALS],
            "webhook_url": webhook_url(),
        },
    )


@require_GET
def portal_inbox(request, hub_id):
    portal = hubspot_portal(hub_id)
    if portal is None:
        return _unknown(request, hub_id)
    last = HubSpotMessage.objects.filter(thread=OuterRef("pk")).order_by("-created_at", "-pk")
    threads = (
        _threads(portal)
        .annotate(last_text=Subquery(last.values("text")[:1]))
        .annotate(last_direction=Subquery(last.values("direction")[:1]))
        .annotate(last_client=Subquery(last.values("client")[:1]))
        .order_by("-updated_at", "-pk")
    )
    rows = [
        {
            "thread": t,
            "customer": customer_label(t),
            "inbox": hubspot_inbox(portal, t.account.inbox_id),
            "last_text": t.last_text or "",
            "last_who": _who(t.last_direction, t.last_client),
        }
        for t in threads
    ]
    return render(
        request,
        "sandbox/hubspot_inbox_list.html",
        {"provider": PROVIDER, "portal": portal, "portals": HUBSPOT_PORTALS, "rows": rows},
    )


def _who(direction: str | None, client: str | None) -> str:
    if direction == Direction.INCOMING:
        return "Customer"
    return "Agent" if client == HubSpotMessage.Client.HUBSPOT else "App"


def _session_key(portal: HubSpotPortal) -> str:
    return f"sandbox:hubspot:agent:{portal.hub_id}"


@require_GET
def thread(request, hub_id, pk):
    portal = hubspot_portal(hub_id)
    if portal is None:
        return _unknown(request, hub_id)
    chat = _threads(portal).filter(pk=pk).first()
    if chat is None:
        return _missing(request, portal)
    account = chat.account
    return render(
        request,
        "sandbox/hubspot_inbox_thread.html",
        {
            "provider": PROVIDER,
            "portal": portal,
            "chat": chat,
            "account": account,
            "inbox": hubspot_inbox(portal, account.inbox_id),
            "customer": customer_label(chat),
            "shown": [_shown(m, chat) for m in chat.messages.all()],
            "agents": portal.agents,
            "chosen_agent": request.session.get(_session_key(portal), ""),
            "refusal": _refusal(chat),
            "webhook_url": webhook_url(chat),
        },
    )


def _refusal(chat: HubSpotThread) -> str:
    """Why agents cannot reply in this thread, or ""."""
    account = chat.account
    if account.channel.archived:
        return "The app archived this custom channel, so HubSpot takes no replies on it."
    if account.archived or not account.authorized:
        return (
            f"The channel account “{account.name}” is disconnected (authorized is false), "
            "so HubSpot takes no replies on it."
        )
    return ""


@require_POST
def reply(request, hub_id, pk):
    """Reply as an agent: store an OUTGOING message, then send the webhook."""
    portal = hubspot_portal(hub_id)
    if portal is None:
        return _unknown(request, hub_id)
    chat = _threads(portal).filter(pk=pk).first()
    if chat is None:
        return _missing(request, portal)
    back = redirect("sandbox:hubspot_inbox_thread", hub_id=portal.hub_id, pk=chat.pk)

    agent = hubspot_agent(portal, request.POST.get("agent", ""))
    if agent is None:
        messages.error(request, f"Choose an agent of {portal.hub_domain} to reply as.")
        return back
    request.session[_session_key(portal)] = str(agent.user_id)
    text = request.POST.get("text", "").strip()
    if not text:
        messages.error(request, "Write the reply first.")
        return back
    if len(text) > MAX_REPLY:
        messages.error(request, f"Keep it under {MAX_REPLY:,} characters.")
        return back
    if reason := _refusal(chat):
        messages.error(request, reason)
        return back

    now = timezone.now()
    recipient = {"deliveryIdentifier": chat.customer_identifier} if chat.customer_identifier else {}
    if recipient and chat.customer_name:
        recipient["name"] = chat.customer_name
    with transaction.atomic():
        message = HubSpotMessage.objects.create(
            thread=chat,
            account=chat.account,
            direction=Direction.OUTGOING,
            client=HubSpotMessage.Client.HUBSPOT,
            text=text,
            rich_text=rich_text(text),
            senders=[{"actorId": agent.actor_id, "name": agent.name}],
            recipients=[recipient] if recipient else [],
            sent_at=now,
            created_at=now,
            updated_at=now,
        )
        chat.updated_at = now
        chat.save(update_fields=["updated_at"])
    _flash(request, deliver(message), f"Replied as {agent.name}.")
    return back


def _flash(request, outcome: delivery.Outcome, what: str) -> None:
    if outcome.ok:
        messages.success(request, f"{what} {outcome.text}")
    else:
        messages.error(request, f"{what} {outcome.text}")


@require_POST
def redeliver(request, hub_id, pk, message_pk):
    """Send a reply's webhook again with the same message id, as a HubSpot retry would,
    so the app's de-duplication can be seen at work."""
    portal = hubspot_portal(hub_id)
    if portal is None:
        return _unknown(request, hub_id)
    message = (
        HubSpotMessage.objects.filter(
            thread__account__portal=portal.hub_id,
            thread_id=pk,
            pk=message_pk,
            client=HubSpotMessage.Client.HUBSPOT,
        )
        .select_related("thread__account__channel", "account")
        .first()
    )
    if message is None:
        return _missing(request, portal)
    _flash(request, deliver(message), "Sent the webhook again.")
    return redirect("sandbox:hubspot_inbox_thread", hub_id=portal.hub_id, pk=pk)
