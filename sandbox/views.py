"""Pieces the provider stand-ins share, and the sandbox's index page."""

import json
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.db.models import F
from django.http import HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from .directory import (
    HUBSPOT_APP_ID,
    HUBSPOT_CHANNEL_ID,
    HUBSPOT_DEVELOPER_API_KEY,
    HUBSPOT_PORTALS,
    INTERCOM_WORKSPACES,
)


class BadRequest(Exception):
    """A provider API call the provider would refuse with a 400; the message is the
    provider's own wording."""


def request_params(request, *, unreadable_json: str) -> dict:
    """A provider API call's parameters: query, then a JSON or form body on top (the
    body wins); single values as strings, uploads as files. Graph also takes a form
    body on DELETE, which Django only parses for POST."""
    params: dict = {key: request.GET.get(key) for key in request.GET}
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError as error:
            raise BadRequest(unreadable_json) from error
        if not isinstance(body, dict):
            raise BadRequest(unreadable_json)
        params.update(body)
    elif request.method == "POST":
        params.update({key: request.POST.get(key) for key in request.POST})
        params.update({key: request.FILES[key] for key in request.FILES})
    elif request.method == "DELETE":
        form = QueryDict(request.body or b"", encoding="utf-8")
        params.update({key: form.get(key) for key in form})
    return params


def spend_fault(faults) -> int | None:
    """The status the next armed fault in ``faults`` (a queryset of fault rows with
    ``status`` and ``remaining``) makes this call answer, or None."""
    fault = spend_fault_row(faults)
    return None if fault is None else fault.status


def spend_fault_row(faults):
    """The next armed fault in ``faults``, spent by this call, or None. Decrements with
    a conditional UPDATE, so concurrent calls never spend one fault twice."""
    while True:
        fault = faults.filter(remaining__gt=0).order_by("pk").first()
        if fault is None:
            return None
        taken = faults.model.objects.filter(pk=fault.pk, remaining__gt=0).update(
            remaining=F("remaining") - 1
        )
        if taken:
            return fault


def problem(request, title: str, message: str, *, provider: str = "", status: int = 400):
    return render(
        request,
        "sandbox/problem.html",
        {"title": title, "message": message, "provider": provider},
        status=status,
    )


def redirect_uri_problem(redirect_uri: str) -> str | None:
    """Why this redirect_uri can't be used, or None if it can."""
    if not redirect_uri:
        return "The request has no redirect_uri, so there is nowhere to send you back to."
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "The redirect_uri must be an absolute http:// or https:// address."
    return None


def redirect_with(redirect_uri: str, **params: str | None) -> HttpResponseRedirect:
    """Redirect to ``redirect_uri`` with ``params`` added to the query it already has."""
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(name, value) for name, value in params.items() if value is not None]
    return HttpResponseRedirect(urlunsplit(parts._replace(query=urlencode(query))))


@require_GET
def index(request):
    from .kinds import phones

    return render(
        request,
        "sandbox/index.html",
        {
            "intercom_workspaces": INTERCOM_WORKSPACES,
            "hubspot_portals": HUBSPOT_PORTALS,
            "hubspot_app_id": HUBSPOT_APP_ID,
            "hubspot_channel_id": HUBSPOT_CHANNEL_ID,
            "hubspot_developer_api_key": HUBSPOT_DEVELOPER_API_KEY,
            # Each kind's fake credentials, in its provider's own section.
            "channel_sections": [
                render_to_string(phone.index_template, phone.index_context(), request=request)
                for phone in phones()
                if phone.index_template
            ],
        },
    )
