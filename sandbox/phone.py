"""The customer phone, the same for every kind: what differs by kind is the kind's
``KindPhone`` (sandbox/kinds.py)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_http_methods, require_POST

from . import customer, delivery, kinds, media
from .customer import Content
from .models import Conversation, Message


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
                (phone.label, *phone.customer_default, phone.customer_id_help)
                for phone in kinds.phones()
            ],
        },
    )


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
    phone = kinds.phone(chat.kind)
    target, problem = phone.resolve(chat.endpoint)
    return render(
        request,
        "sandbox/phone_conversation.html",
        {
            "provider": phone.label,
            "phone": phone,
            "chat": chat,
            "endpoint": endpoint,
            "problem": problem if target is None else "",
            "messages_list": chat.messages.all(),
            "window": phone.window,
            "window_open": chat.window_open(),
            "receipts": phone.receipts,
            "can_locate": phone.locations,
            "photo_url": static(media.PHOTO_STATIC),
            # The customer's texts, newest first, for the kinds where they can edit one.
            "editable": chat.messages.filter(
                direction=Message.Direction.IN, content_type="text"
            ).order_by("-pk")
            if phone.edits_and_taps
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
        said = ", ".join(p.after_window for p in kinds.phones() if p.window)
        messages.success(request, f"It is now 25 hours after the customer's last message: {said}.")
    return redirect("sandbox:phone_conversation", pk=chat.pk)
