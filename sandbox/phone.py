"""Pages a person uses: the customer phone, and the Meta app dashboard where Messenger's
(app-wide) callback URL is pasted, as in Meta's own dashboard."""

import re

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_http_methods, require_POST

from . import customer, delivery, media
from .customer import Content
from .directory import INTERCOM_WORKSPACES, MESSENGER_PAGES, META_APP, WHATSAPP_NUMBERS
from .models import AppSubscription, Conversation, IntercomContact, Kind, Message, Webhook

META = "Meta"
META_OBJECTS = {
    "page": ("Page (Messenger)", ["messages", "message_deliveries", "message_reads"]),
    "whatsapp_business_account": ("WhatsApp Business Account", ["messages"]),
}


def _flash(request, outcome: delivery.Outcome) -> None:
    (messages.success if outcome.ok else messages.error)(request, outcome.text)


# --- the phone ------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def phone(request):
    if request.method == "POST":
        return _start(request)
    rows = []
    for endpoint in customer.endpoints():
        target, problem = customer.resolve(endpoint.kind, endpoint.id)
        rows.append({"endpoint": endpoint, "ready": target is not None, "problem": problem})
    return render(
        request,
        "sandbox/phone.html",
        {
            "rows": rows,
            "usable": [row["endpoint"] for row in rows if row["ready"]],
            "conversations": Conversation.objects.all()[:50],
            "defaults": [
                (Kind(kind).label, name, cid, customer.CUSTOMER_ID_HELP[kind])
                for kind, (name, cid) in customer.CUSTOMER_DEFAULTS.items()
            ],
        },
    )


# A Brazilian customer as WhatsApp reports an account older than the ninth digit
# (551187654321), known to the team as +55 11 98765-4321 (integrations/phone_identity.py).
BRAZILIAN = ("Joana Silva", "551187654321", "+5511987654321")


@require_POST
def brazilian(request):
    """Open a chat as the Brazilian customer, after giving every sandbox Intercom
    workspace her as a user with the number the team typed, so a person sees one contact
    and one conversation in the inbox, and the reply arriving on this phone."""
    name, wa_id, typed = BRAZILIAN
    endpoint = next(
        (
            e
            for e in customer.endpoints()
            if e.kind == Kind.WHATSAPP and customer.resolve(e.kind, e.id)[0] is not None
        ),
        None,
    )
    if endpoint is None:
        messages.error(request, "Add a WhatsApp channel in Octopods first.")
        return redirect("sandbox:phone")
    for workspace in INTERCOM_WORKSPACES:
        IntercomContact.objects.get_or_create(
            workspace=workspace.id_code, phone=typed, defaults={"name": name}
        )
    conversation, _ = Conversation.objects.get_or_create(
        kind=endpoint.kind,
        endpoint=endpoint.id,
        customer_id=wa_id,
        defaults={"customer_name": name},
    )
    messages.success(
        request,
        f"{name} writes from {wa_id} (WhatsApp's form without the ninth digit); the sandbox "
        f"Intercom knows her as {typed}.",
    )
    return redirect("sandbox:phone_conversation", pk=conversation.pk)


def _start(request):
    endpoint = customer.endpoint(request.POST.get("endpoint", ""))
    if endpoint is None:
        messages.error(request, "Choose a bot, number or Page to write to.")
        return redirect("sandbox:phone")
    target, problem = customer.resolve(endpoint.kind, endpoint.id)
    if target is None:
        messages.error(request, f"{endpoint.label}: {problem}")
        return redirect("sandbox:phone")
    try:
        customer_id = customer.customer_id(endpoint.kind, request.POST.get("customer_id", ""))
    except ValueError as error:
        messages.error(request, str(error))
        return redirect("sandbox:phone")
    name = " ".join(request.POST.get("name", "").split())[:120]
    name = name or customer.CUSTOMER_DEFAULTS[endpoint.kind][0]
    conversation, created = Conversation.objects.get_or_create(
        kind=endpoint.kind,
        endpoint=endpoint.id,
        customer_id=customer_id,
        defaults={"customer_name": name},
    )
    if not created and conversation.customer_name != name:
        conversation.customer_name = name
        conversation.save(update_fields=["customer_name"])
    return redirect("sandbox:phone_conversation", pk=conversation.pk)


@require_http_methods(["GET"])
def conversation(request, pk):
    chat = get_object_or_404(Conversation, pk=pk)
    endpoint = customer.endpoint(f"{chat.kind}:{chat.endpoint}")
    target, problem = customer.resolve(chat.kind, chat.endpoint)
    window = chat.kind in (Kind.WHATSAPP, Kind.MESSENGER)
    return render(
        request,
        "sandbox/phone_conversation.html",
        {
            "provider": Kind(chat.kind).label,
            "chat": chat,
            "endpoint": endpoint,
            "problem": problem if target is None else "",
            "messages_list": chat.messages.all(),
            "window": window,
            "window_open": chat.window_open(),
            "receipts": customer.RECEIPTS[chat.kind],
            "can_locate": chat.kind != Kind.TWILIO,
            "photo_url": static(media.PHOTO_STATIC),
            # The customer's texts, newest first, for Telegram's edit.
            "editable": chat.messages.filter(
                direction=Message.Direction.IN, content_type="text"
            ).order_by("-pk")
            if chat.kind == Kind.TELEGRAM
            else (),
        },
    )


def _float(value: str, low: float, high: float) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if low <= number <= high else None


def _content(post) -> Content | str:
    """What the customer typed, or what is wrong with it."""
    what = post.get("what", "")
    if what == "text":
        text = post.get("text", "").strip()
        return Content("text", text=text) if text else "Type a message first."
    if what == "image":
        return Content("image", text=post.get("caption", "").strip())
    if what == "location":
        latitude = _float(post.get("latitude", ""), -90, 90)
        longitude = _float(post.get("longitude", ""), -180, 180)
        if latitude is None or longitude is None:
            return "A location needs a latitude (-90 to 90) and a longitude (-180 to 180)."
        return Content(
            "location",
            latitude=latitude,
            longitude=longitude,
            name=post.get("place_name", "").strip(),
            address=post.get("address", "").strip(),
        )
    return "Choose what to send."


@require_POST
def send(request, pk):
    chat = get_object_or_404(Conversation, pk=pk)
    content = _content(request.POST)
    if isinstance(content, str):
        messages.error(request, content)
    else:
        _flash(request, customer.customer_sends(chat, content))
    return redirect("sandbox:phone_conversation", pk=chat.pk)


@require_POST
def edit(request, pk):
    chat = get_object_or_404(Conversation, pk=pk)
    message = chat.messages.filter(pk=request.POST.get("message") or 0).first()
    text = request.POST.get("text", "").strip()
    if message is None or not text:
        messages.error(request, "Choose one of the customer's texts and write its new text.")
    else:
        _flash(request, customer.customer_edits(chat, message, text))
    return redirect("sandbox:phone_conversation", pk=chat.pk)


@require_POST
def tap(request, pk):
    chat = get_object_or_404(Conversation, pk=pk)
    label = request.POST.get("label", "").strip()
    if not label:
        messages.error(request, "Name the button the customer taps.")
    else:
        _flash(request, customer.customer_taps(chat, label))
    return redirect("sandbox:phone_conversation", pk=chat.pk)


@require_POST
def receipts(request, pk):
    chat = get_object_or_404(Conversation, pk=pk)
    state = request.POST.get("state", "")
    if state not in ("delivered", "read"):
        messages.error(request, "Choose delivered or read.")
    else:
        _flash(request, customer.post_receipts(chat, state))
    return redirect("sandbox:phone_conversation", pk=chat.pk)


@require_POST
def later(request, pk):
    chat = get_object_or_404(Conversation, pk=pk)
    if chat.last_customer_message_at is None:
        messages.error(request, "The customer has not written yet, so there is no window.")
    else:
        customer.pretend_later(chat)
        messages.success(
            request,
            "It is now 25 hours after the customer's last message: WhatsApp accepts only "
            "templates, Messenger only tagged messages (HUMAN_AGENT up to 7 days).",
        )
    return redirect("sandbox:phone_conversation", pk=chat.pk)


# --- the Meta app dashboard -----------------------------------------------------------


@require_http_methods(["GET", "POST"])
def meta_dashboard(request):
    if request.method == "POST":
        return _dashboard_post(request)
    callbacks = {w.owner: w for w in Webhook.objects.filter(scope=Webhook.Scope.META_APP)}
    pages = {
        s.owner_id: s for s in AppSubscription.objects.filter(owner_kind=AppSubscription.Owner.PAGE)
    }
    wabas = set(
        AppSubscription.objects.filter(owner_kind=AppSubscription.Owner.WABA).values_list(
            "owner_id", flat=True
        )
    )
    return render(
        request,
        "sandbox/meta_dashboard.html",
        {
            "provider": META,
            "app": META_APP,
            "objects": [
                (name, label, fields, callbacks.get(name))
                for name, (label, fields) in META_OBJECTS.items()
            ],
            "pages": [(page, pages.get(page.page_id)) for page in MESSENGER_PAGES],
            "numbers": [(number, number.waba_id in wabas) for number in WHATSAPP_NUMBERS],
        },
    )


def _dashboard_post(request):
    name = request.POST.get("object", "")
    if name not in META_OBJECTS:
        messages.error(request, "Choose Page or WhatsApp Business Account.")
        return redirect("sandbox:meta_dashboard")
    label, fields = META_OBJECTS[name]
    if request.POST.get("action") == "remove":
        Webhook.objects.filter(scope=Webhook.Scope.META_APP, owner=name).delete()
        messages.success(request, f"Removed the callback URL for {label}.")
        return redirect("sandbox:meta_dashboard")
    url = request.POST.get("callback_url", "").strip()
    verify_token = request.POST.get("verify_token", "").strip()
    if not re.match(r"https?://[^/\s]+", url):
        messages.error(request, "The callback URL must start with http:// or https://.")
        return redirect("sandbox:meta_dashboard")
    if not verify_token:
        messages.error(request, "Paste the verify token as well.")
        return redirect("sandbox:meta_dashboard")
    failure = delivery.meta_handshake(url, verify_token)
    if failure is not None:
        messages.error(request, f"Not saved. {failure}")
        return redirect("sandbox:meta_dashboard")
    Webhook.objects.update_or_create(
        scope=Webhook.Scope.META_APP,
        owner=name,
        defaults={"url": url, "secret": verify_token, "options": {"fields": fields}},
    )
    messages.success(
        request,
        f"Verified and saved: {url} answered the challenge, so {label} webhooks now go there.",
    )
    return redirect("sandbox:meta_dashboard")
