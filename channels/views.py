"""Provider webhooks (identify the channel, verify, store, answer — nothing else; no
outbound HTTP call: the relay picks stored messages up), and the channel pages."""

import logging
import mimetypes

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.files.storage import default_storage
from django.db import DataError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import account_required, account_role
from integrations.base import ProviderError
from integrations.channel import MalformedPayload, WebhookRejected, WebhookRequest
from integrations.registry import CHANNELS, channel_adapter, inbox_adapter
from integrations.webhook_guard import body_refusal
from octopods import metrics
from octopods.logs import correlated
from relay.media import media_path, storage_errors, storage_failure
from workspaces.models import Workspace

from .ingest import webhook_channel
from .models import Channel, Message
from .roundtrip import channel_round_trip
from .selectors import (
    channel_credentials_shown,
    channel_for_account,
    channel_message_page,
    channel_whatsapp_templates,
)
from .services import (
    ChannelConflict,
    channel_add,
    channel_problem,
    channel_refusal,
    channel_remove,
    channel_webhook_url,
    channel_webhook_verified,
    inbound_store,
    inbox_events_store,
    messages_requeue,
)
from .template_services import whatsapp_templates_sync

logger = logging.getLogger(__name__)

# Meta batches up to 1000 updates in one POST; more is not a provider talking.
MAX_EVENTS_PER_WEBHOOK = 1000


def _webhook_request(request) -> WebhookRequest:
    return WebhookRequest(
        method=request.method,
        # What the provider signed: our public address, not the host a proxy passed on.
        url=settings.PUBLIC_BASE_URL + request.get_full_path(),
        headers=dict(request.headers),
        body=request.body,
        query={key: request.GET.getlist(key) for key in request.GET},
        form={key: request.POST.getlist(key) for key in request.POST}
        if request.content_type == "application/x-www-form-urlencoded"
        else {},
    )


@csrf_exempt  # providers sign their requests instead
@correlated
@metrics.webhook_counted
@require_http_methods(["GET", "POST"])
def webhook(request, kind, key):
    if kind not in CHANNELS:
        raise Http404("Unknown channel kind.")
    channel = webhook_channel(kind, key)
    if channel is None:
        raise Http404("Unknown webhook.")
    if refusal := body_refusal(request, max_bytes=settings.WEBHOOK_MAX_BYTES):
        return refusal
    adapter = channel_adapter(kind)
    credentials = adapter.credentials(channel.credentials_data)
    hook = _webhook_request(request)

    if request.method == "GET":
        try:
            challenge = adapter.handshake(credentials=credentials, request=hook)
        except NotImplementedError:
            return HttpResponse("Use POST.", status=405, content_type="text/plain")
        except WebhookRejected as rejected:
            channel_refusal(channel=channel, problem=f"Webhook verification refused: {rejected}")
            return HttpResponse("Verify token mismatch.", status=403, content_type="text/plain")
        channel_webhook_verified(channel=channel)
        return HttpResponse(challenge, content_type="text/plain")

    try:
        adapter.verify(credentials=credentials, request=hook)
    except WebhookRejected as rejected:
        logger.warning("rejected %s webhook for channel %s: %s", kind, channel.pk, rejected)
        channel_refusal(channel=channel, problem=f"Webhook refused: {rejected}")
        return HttpResponse("Bad signature.", status=403, content_type="text/plain")
    try:
        events = adapter.parse(request=hook)
        if len(events) > MAX_EVENTS_PER_WEBHOOK:
            raise MalformedPayload(f"more than {MAX_EVENTS_PER_WEBHOOK} events in one request")
    except MalformedPayload as malformed:
        return _malformed(kind, channel, malformed)
    body, content_type = adapter.ack
    if not events:
        logger.info("%s webhook for channel %s carried no event we handle", kind, channel.pk)
        return HttpResponse(body, content_type=content_type)
    try:
        inbound_store(channel=channel, events=events)
    except DataError as refused:
        # Every value is made storable first (channels/services.py), so this is our
        # bug; a 500 would only have the provider retry the same refusal until it
        # gives up. Answer why, and keep the traceback for us.
        logger.exception("%s webhook for channel %s could not be stored", kind, channel.pk)
        return _malformed(
            kind, channel, f"a value could not be stored ({refused.__class__.__name__})"
        )
    metrics.messages_stored(kind, events)
    logger.info(
        "%s webhook for channel %s: %d events stored",
        kind,
        channel.pk,
        len(events),
        extra={"kind": kind, "channel_id": channel.pk, "events": len(events)},
    )
    return HttpResponse(body, content_type=content_type)


def _malformed(kind: str, channel: Channel, reason) -> HttpResponse:
    logger.warning("malformed %s webhook for channel %s: %s", kind, channel.pk, reason)
    channel_problem(channel=channel, problem=f"Webhook body not understood: {reason}")
    return HttpResponse(f"Malformed body: {reason}", status=400, content_type="text/plain")


# --- Channel pages ----------------------------------------------------------------------


def channel_or_404(request, pk, *, with_settings: bool = False) -> Channel:
    """The current account's channel ``pk`` (another account's is a 404)."""
    try:
        return channel_for_account(account=request.account, pk=pk, with_settings=with_settings)
    except Channel.DoesNotExist:
        raise Http404("No such channel.") from None


def _add_form_class(adapter):
    class AddChannelForm(adapter.form):
        name = forms.CharField(
            label="Channel name",
            max_length=120,
            required=False,
            help_text=f"What your team sees in Octopods. Leave it empty to use the name "
            f"{adapter.label} has for it.",
        )
        field_order = ["name"]

    return AddChannelForm


@require_GET
@account_role("admin")
def add_kind(request, pk):
    """Add channel, step 1: which kind."""
    workspace = get_object_or_404(Workspace.objects.for_account(request.account), pk=pk)
    kinds = [(kind, channel_adapter(kind)) for kind in CHANNELS]
    return render(request, "channels/add_kind.html", {"workspace": workspace, "kinds": kinds})


@require_http_methods(["GET", "POST"])
@account_role("admin")
def add(request, pk, kind):
    """Add channel, step 2: the kind's credentials, checked with the provider."""
    workspace = get_object_or_404(Workspace.objects.for_account(request.account), pk=pk)
    if kind not in CHANNELS:
        raise Http404("Unknown channel kind.")
    adapter = channel_adapter(kind)
    form_class = _add_form_class(adapter)
    form = form_class(request.POST or None, label_suffix="")
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "name"}
            try:
                channel = channel_add(
                    workspace=workspace,
                    kind=kind,
                    data=data,
                    name=form.cleaned_data["name"],
                    user=request.user,
                )
            except ProviderError as error:
                field = error.field if error.field in form.fields else None
                form.add_error(field, error.message)
            except ChannelConflict as conflict:
                form.add_error(None, str(conflict))
            else:
                messages.success(request, f"{adapter.label} channel “{channel.name}” added.")
                return redirect("channels:detail", channel.pk)
    return render(
        request,
        "channels/add.html",
        {"workspace": workspace, "adapter": adapter, "kind": kind, "form": form},
        status=status,
    )


@require_GET
@account_required
def detail(request, pk):
    channel = channel_or_404(request, pk)
    adapter = channel_adapter(channel.kind)
    credentials = channel.credentials_data
    return render(
        request,
        "channels/detail.html",
        {
            "channel": channel,
            "workspace": channel.workspace,
            "adapter": adapter,
            "webhook_url": channel_webhook_url(channel=channel),
            "verify_token": credentials.get("verify_token", ""),
            "credentials": channel_credentials_shown(kind=channel.kind, data=credentials),
            "page": channel_message_page(channel=channel, number=request.GET.get("page")),
            "templates": channel_whatsapp_templates(channel=channel),
        },
    )


@require_POST
@account_role("admin")
def templates_sync(request, pk):
    """Sync now: read the channel's templates from Meta again."""
    channel = channel_or_404(request, pk)
    adapter = channel_adapter(channel.kind)
    if not adapter.approved_templates:
        raise Http404(f"{adapter.label} channels have no templates to sync.")
    try:
        result = whatsapp_templates_sync(channel=channel)
    except ProviderError as error:
        messages.error(request, f"The templates could not be synced: {error.message}")
    else:
        messages.success(request, result.summary())
    return redirect("channels:detail", channel.pk)


@require_POST
@account_role("admin")
def round_trip(request, pk):
    """Test round trip: runs a synthetic message through the real path and shows each
    step's outcome."""
    channel = channel_or_404(request, pk)
    steps = channel_round_trip(channel=channel)
    return render(request, "channels/round_trip.html", {"channel": channel, "steps": steps})


@require_POST
@account_role("admin")
def message_retry(request, pk, message_pk):
    """Send a failed message through the relay again (the log's Retry button)."""
    channel = channel_or_404(request, pk)
    selected = Message.objects.filter(channel=channel, pk=message_pk)
    if not selected.exists():
        raise Http404("No such message.")
    if messages_requeue(messages=selected):
        messages.success(request, "The message is queued to be sent again.")
    else:
        messages.info(request, "That message has not failed; nothing to retry.")
    return redirect("channels:detail", channel.pk)


@require_http_methods(["GET", "POST"])
@account_role("admin")
def remove(request, pk):
    channel = channel_or_404(request, pk)
    if request.method == "POST":
        if leftover := channel_remove(channel=channel):
            messages.warning(request, f"{channel.name} was removed. {leftover}")
        else:
            messages.success(request, f"{channel.name} was removed.")
        return redirect("workspaces:detail", channel.workspace_id)
    return render(request, "channels/remove.html", {"channel": channel})


# --- the inbox's webhooks and our media links -----------------------------------------


@csrf_exempt  # the inbox signs its requests instead
@correlated
@metrics.webhook_counted
@require_http_methods(["HEAD", "POST"])
def inbox_webhook(request, provider):
    """Agent replies and conversation changes from the inbox: verify, store, 200.

    Intercom checks the URL with a HEAD when it is saved. One URL serves every
    workspace; each event names its workspace (Intercom's app_id), and an unknown one
    is acknowledged and logged — a workspace removed here must not make Intercom pause
    the app's webhooks for everyone."""
    if request.method == "HEAD":
        return HttpResponse()
    if refusal := body_refusal(request, max_bytes=settings.WEBHOOK_MAX_BYTES):
        return refusal
    adapter = inbox_adapter(provider)
    hook = _webhook_request(request)
    try:
        adapter.verify_webhook(request=hook)
    except WebhookRejected as rejected:
        logger.warning("rejected %s webhook: %s", provider, rejected)
        return HttpResponse("Bad signature.", status=403, content_type="text/plain")
    try:
        events = adapter.parse_webhook(request=hook)
    except MalformedPayload as malformed:
        logger.warning("malformed %s webhook: %s", provider, malformed)
        return HttpResponse(f"Malformed body: {malformed}", status=400, content_type="text/plain")
    if len(events) > MAX_EVENTS_PER_WEBHOOK:
        return HttpResponse(
            "Malformed body: too many events.", status=400, content_type="text/plain"
        )
    if events:
        try:
            stored = inbox_events_store(provider=provider, events=events)
        except DataError as refused:
            # As for channel webhooks: our bug, answered with a reason rather than a 500.
            logger.exception("%s webhook could not be stored", provider)
            return HttpResponse(
                f"Malformed body: a value could not be stored ({refused.__class__.__name__})",
                status=400,
                content_type="text/plain",
            )
        logger.info(
            "%s webhook: %d events, %d messages to send",
            provider,
            len(events),
            stored,
            extra={"provider": provider, "events": len(events), "messages": stored},
        )
    return HttpResponse("OK", content_type="text/plain")


# Shown in the browser as they are; anything else a customer sent is a download. The
# files come from strangers and are served from our own origin: an HTML or SVG file
# shown inline would be a page of ours (scripts, forms) to whoever opens the link.
INLINE_MEDIA_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "audio/mpeg",
        "audio/ogg",
        "audio/aac",
        "audio/mp4",
        "audio/amr",
        "audio/webm",
        "video/mp4",
        "video/3gpp",
        "video/webm",
        "video/quicktime",
    }
)
# Types a browser would run or render as a document, even from a download.
_ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "text/css",
    }
)


@require_GET
@csp_override({"default-src": [CSP.NONE], "sandbox": True})
def media(request, token, filename=""):
    """A customer's file, behind a signed link that expires (the inbox fetches it); the
    token alone names the file, ``filename`` is only for the inbox to read."""
    path = media_path(token)
    if path is None:
        raise Http404("No such file, or the link has expired.")
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    inline = content_type in INLINE_MEDIA_TYPES
    if content_type in _ACTIVE_TYPES:
        content_type = "application/octet-stream"
    # Streamed from the storage (disk or a private S3 bucket), never a redirect to the
    # bucket: the link keeps its one expiry and these headers, and the bucket's address
    # and credentials stay ours.
    try:
        if not default_storage.exists(path):
            raise Http404("No such file, or the link has expired.")
        response = FileResponse(
            default_storage.open(path, "rb"), as_attachment=not inline, content_type=content_type
        )
    except storage_errors() as error:
        # The inbox fetches again later; a 404 would tell it the file is gone for good.
        logger.error("media %s could not be read from storage: %s", path, storage_failure(error))
        response = HttpResponse(
            "The file cannot be read right now; try again shortly.",
            status=503,
            content_type="text/plain",
        )
        response["Retry-After"] = "30"
        return response
    # Set here as well as by SecurityMiddleware: a file must never be sniffed into HTML.
    response["X-Content-Type-Options"] = "nosniff"
    return response
