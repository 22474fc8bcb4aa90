"""The Meta app dashboard, where Messenger's and Instagram's (app-wide) callback URLs are
pasted, as in Meta's own dashboard."""

import re

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ..models import AppSubscription, Webhook
from .directory import FACEBOOK_PAGES, META_APP, WHATSAPP_NUMBERS
from .webhooks import meta_handshake

META = "Meta"
META_OBJECTS = {
    "page": ("Page (Messenger)", ["messages", "message_deliveries", "message_reads"]),
    "whatsapp_business_account": ("WhatsApp Business Account", ["messages"]),
    # Instagram's fields are chosen here, on the app's Instagram webhook: the Page's
    # subscribed_apps only switches its linked account's events on.
    "instagram": (
        "Instagram",
        ["messages", "messaging_postbacks", "messaging_seen", "message_reactions"],
    ),
}


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
            "pages": [(page, pages.get(page.page_id)) for page in FACEBOOK_PAGES],
            "numbers": [(number, number.waba_id in wabas) for number in WHATSAPP_NUMBERS],
        },
    )


def _dashboard_post(request):
    name = request.POST.get("object", "")
    if name not in META_OBJECTS:
        messages.error(request, "Choose Page, WhatsApp Business Account or Instagram.")
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
    failure = meta_handshake(url, verify_token)
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
