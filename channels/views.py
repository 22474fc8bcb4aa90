"""Provider webhooks: identify the channel, verify, store, answer — nothing else.

The view makes no outbound HTTP call; the relay picks stored messages up.
"""

import logging

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from integrations.channel import MalformedPayload, WebhookRejected, WebhookRequest
from integrations.registry import CHANNELS, channel_adapter

from .models import Channel
from .services import inbound_store

logger = logging.getLogger(__name__)


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
@require_http_methods(["GET", "POST"])
def webhook(request, kind, key):
    if kind not in CHANNELS:
        raise Http404("Unknown channel kind.")
    channel = Channel.objects.filter(kind=kind, webhook_key=key).first()
    if channel is None:
        raise Http404("Unknown webhook.")
    if int(request.headers.get("Content-Length") or 0) > settings.WEBHOOK_MAX_BYTES:
        return HttpResponse("Body too large.", status=413, content_type="text/plain")
    adapter = channel_adapter(kind)
    credentials = adapter.credentials(channel.credentials_data)
    hook = _webhook_request(request)

    if request.method == "GET":
        try:
            challenge = adapter.handshake(credentials=credentials, request=hook)
        except NotImplementedError:
            return HttpResponse("Use POST.", status=405, content_type="text/plain")
        except WebhookRejected:
            return HttpResponse("Verify token mismatch.", status=403, content_type="text/plain")
        return HttpResponse(challenge, content_type="text/plain")

    try:
        adapter.verify(credentials=credentials, request=hook)
    except WebhookRejected as rejected:
        logger.warning("rejected %s webhook for channel %s: %s", kind, channel.pk, rejected)
        return HttpResponse("Bad signature.", status=403, content_type="text/plain")
    try:
        events = adapter.parse(request=hook)
    except MalformedPayload as malformed:
        logger.warning("malformed %s webhook for channel %s: %s", kind, channel.pk, malformed)
        return HttpResponse(f"Malformed body: {malformed}", status=400, content_type="text/plain")
    body, content_type = adapter.ack
    if not events:
        logger.info("%s webhook for channel %s carried no event we handle", kind, channel.pk)
        return HttpResponse(body, content_type=content_type)
    inbound_store(channel=channel, events=events)
    logger.info("%s webhook for channel %s: %d events stored", kind, channel.pk, len(events))
    return HttpResponse(body, content_type=content_type)
