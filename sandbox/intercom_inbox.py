"""A stand-in for Intercom's inbox REST API: the contacts, conversations, replies, notes
and tags Octopods writes when it relays a customer's message and reads back an agent's
reply. State lives in the sandbox's own tables, one fake workspace per Bearer token.

PROVIDERS.md §1.4 (contacts), §1.5 (conversations), §1.8 (rate limits), §1.9 (errors).
What Intercom's docs allow, the sandbox accepts: ``from.type`` user, lead or contact;
replies naming the contact by ``intercom_user_id``, ``user_id`` or ``email``.
"""

import base64
import binascii
import mimetypes
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from http import HTTPStatus
from posixpath import basename
from urllib.parse import unquote, urlsplit

from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from . import intercom_search as search
from .directory import IntercomAdmin, IntercomWorkspace, intercom_workspace
from .intercom import error_list, workspace_for_token
from .models import (
    IntercomContact,
    IntercomConversation,
    IntercomFault,
    IntercomPart,
    IntercomTag,
    IntercomTagging,
)
from .views import BadRequest, request_params, spend_fault_row

# The app package code Intercom stamps on every part an app writes through the API:
# Octopods recognises its own writes by it when they echo back in webhooks.
APP_PACKAGE_CODE = "octopods"
MAX_ATTACHMENTS = 10
# Intercom: 10,000 calls a minute for a public app, enforced in 10-second windows.
RATE_LIMIT = 10_000
RATE_WINDOW = 10
CONTACT_ROLES = {"user", "lead", "contact"}
NOT_FOUND = "Resource Not Found"

Part = IntercomPart
State = IntercomConversation.State


class ApiError(Exception):
    """An answer Intercom gives as an ``error.list``."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _not_found(message: str = NOT_FOUND) -> ApiError:
    return ApiError(404, "not_found", message)


def _invalid(message: str, code: str = "parameter_invalid") -> ApiError:
    return ApiError(400, code, message)


def ts(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment else None


# --- the API's frame: auth, faults, rate-limit headers -----------------------------------


def _bearer(request) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _rate_headers(response, *, remaining: int) -> None:
    reset = (int(time.time()) // RATE_WINDOW + 1) * RATE_WINDOW
    response["X-RateLimit-Limit"] = str(RATE_LIMIT)
    response["X-RateLimit-Remaining"] = str(remaining)
    response["X-RateLimit-Reset"] = str(reset)


def take_fault(workspace: str) -> IntercomFault | None:
    """The next armed fault (of this workspace, or of any), spent by this call."""
    return spend_fault_row(IntercomFault.objects.filter(workspace__in=("", workspace)))


def _fault_answer(status: int):
    if status == 429:
        return error_list(
            429,
            "rate_limit_exceeded",
            f"Exceeded rate limit of {RATE_LIMIT // 6} in {RATE_WINDOW}_seconds",
        )
    if status >= 500:
        code = "service_unavailable" if status == 503 else "server_error"
        return error_list(status, code, HTTPStatus(status).phrase)
    codes = {401: "unauthorized", 403: "api_plan_restricted", 404: "not_found"}
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return error_list(status, codes.get(status, "client_error"), phrase)


def api(*methods: str):
    """An Intercom REST endpoint: the Bearer token picks the workspace (401 otherwise),
    an armed fault answers instead, errors come back as Intercom's ``error.list``, and
    every answer carries Intercom's rate-limit headers."""

    def decorate(view: Callable):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            remaining = RATE_LIMIT - 1
            workspace = workspace_for_token(_bearer(request))
            if workspace is None:
                response = error_list(401, "unauthorized", "Access Token Invalid")
            elif request.method not in methods:
                response = error_list(
                    405,
                    "method_not_allowed",
                    f"{request.method} is not supported here; use {' or '.join(methods)}.",
                )
            elif (fault := take_fault(workspace.id_code)) is not None and fault.status != 200:
                threading.Event().wait(fault.delay_ms / 1000)
                response = _fault_answer(fault.status)
                remaining = 0 if fault.status == 429 else remaining
            else:
                try:
                    response = JsonResponse(view(request, workspace, *args, **kwargs))
                except ApiError as error:
                    response = error_list(error.status, error.code, error.message)
                if fault is not None:  # done, and answered late
                    threading.Event().wait(fault.delay_ms / 1000)
            _rate_headers(response, remaining=remaining)
            return response

        return wrapper

    return decorate


def _body(request) -> dict:
    try:
        return request_params(request, unreadable_json="The request body is not a JSON object.")
    except BadRequest as error:
        raise _invalid(str(error)) from None


def _text(body: dict, name: str, *, required: bool = False, limit: int = 255) -> str:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise _invalid(f"{name} is required.")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _invalid(f"{name} must be a string.")
    value = str(value)
    if len(value) > limit:
        raise _invalid(f"{name} is longer than {limit} characters.", "data_invalid")
    return value


# --- JSON shapes --------------------------------------------------------------------------


def contact_json(contact: IntercomContact) -> dict:
    path = f"/contacts/{contact.intercom_id}"
    return {
        "type": "contact",
        "id": contact.intercom_id,
        "workspace_id": contact.workspace,
        "external_id": contact.external_id or None,
        "role": contact.role,
        "email": contact.email or None,
        "email_domain": contact.email.rpartition("@")[2] or None if contact.email else None,
        "phone": contact.phone or None,
        "formatted_phone": contact.phone or None,
        "name": contact.name or None,
        "owner_id": None,
        "has_hard_bounced": False,
        "marked_email_as_spam": False,
        "unsubscribed_from_emails": False,
        "created_at": ts(contact.created_at),
        "updated_at": ts(contact.updated_at),
        "signed_up_at": ts(contact.signed_up_at),
        "last_seen_at": None,
        "last_replied_at": ts(contact.last_replied_at),
        "last_contacted_at": None,
        "last_email_opened_at": None,
        "last_email_clicked_at": None,
        "language_override": None,
        "browser": None,
        "os": None,
        "android_app_name": None,
        "ios_app_name": None,
        "avatar": ({"type": "avatar", "image_url": contact.avatar} if contact.avatar else None),
        "custom_attributes": contact.custom_attributes,
        "tags": {
            "type": "list",
            "data": [],
            "url": f"{path}/tags",
            "total_count": 0,
            "has_more": False,
        },
        "notes": {
            "type": "list",
            "data": [],
            "url": f"{path}/notes",
            "total_count": 0,
            "has_more": False,
        },
        "companies": {
            "type": "list",
            "data": [],
            "url": f"{path}/companies",
            "total_count": 0,
            "has_more": False,
        },
        "location": {"type": "location", "country": None, "region": None, "city": None},
        "social_profiles": {"type": "list", "data": []},
    }


def _author_json(part: IntercomPart) -> dict:
    return {
        "type": part.author_type,
        "id": part.author_id,
        "name": part.author_name or None,
        "email": part.author_email or None,
    }


def part_json(part: IntercomPart) -> dict:
    created = ts(part.created_at)
    return {
        "type": "conversation_part",
        "id": str(part.pk),
        "part_type": part.part_type,
        "body": part.body or None,
        "created_at": created,
        "updated_at": created,
        "notified_at": created,
        "assigned_to": ({"type": "admin", "id": part.assigned_to} if part.assigned_to else None),
        "author": _author_json(part),
        "attachments": part.attachments,
        "external_id": None,
        "redacted": False,
        "app_package_code": part.app_package_code or None,
    }


def _tag_json(tagging: IntercomTagging) -> dict:
    return {
        "type": "tag",
        "id": str(tagging.tag_id),
        "name": tagging.tag.name,
        "applied_at": ts(tagging.applied_at),
        "applied_by": ({"type": "admin", "id": tagging.applied_by} if tagging.applied_by else None),
    }


def conversation_json(
    conversation: IntercomConversation, parts: list[IntercomPart] | None = None
) -> dict:
    """Intercom's conversation object. ``parts`` are the conversation_parts to show:
    all of them (the REST answer), one (a webhook), or None for none (search results)."""
    source = conversation.parts.filter(part_type=Part.Type.SOURCE).first()
    contact = conversation.contact
    taggings = IntercomTagging.objects.filter(conversation=conversation).select_related("tag")
    admins = sorted(
        set(
            conversation.parts.filter(author_type=Part.Author.ADMIN).values_list(
                "author_id", flat=True
            )
        )
    )
    first_reply = (
        conversation.parts.exclude(author_type=Part.Author.ADMIN)
        .exclude(part_type=Part.Type.SOURCE)
        .first()
    )
    data = {
        "type": "conversation",
        "id": str(conversation.pk),
        "title": conversation.title or None,
        "created_at": ts(conversation.created_at),
        "updated_at": ts(conversation.updated_at),
        "waiting_since": ts(conversation.waiting_since),
        "snoozed_until": ts(conversation.snoozed_until),
        "open": conversation.is_open,
        "state": conversation.state,
        "read": conversation.read,
        "priority": "not_priority",
        "admin_assignee_id": (
            int(conversation.admin_assignee_id) if conversation.admin_assignee_id else None
        ),
        "team_assignee_id": conversation.team_assignee_id or None,
        "tags": {"type": "tag.list", "tags": [_tag_json(t) for t in taggings]},
        "conversation_rating": None,
        "source": {
            "type": "conversation",
            "id": str(source.pk) if source else None,
            "delivered_as": "customer_initiated",
            "subject": "",
            "body": source.body if source else "",
            "author": _author_json(source) if source else None,
            "attachments": source.attachments if source else [],
            "url": None,
            "redacted": False,
        },
        "contacts": {
            "type": "contact.list",
            "contacts": [
                {
                    "type": "contact",
                    "id": contact.intercom_id,
                    "external_id": contact.external_id or None,
                }
            ],
        },
        "teammates": {
            "type": "admin.list",
            "admins": [{"type": "admin", "id": admin_id} for admin_id in admins],
        },
        "custom_attributes": {},
        "first_contact_reply": (
            {"created_at": ts(first_reply.created_at), "type": "conversation", "url": None}
            if first_reply
            else None
        ),
        "sla_applied": None,
        "statistics": None,
        "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": False},
        "ai_agent_participated": False,
    }
    if parts is not None:
        data["conversation_parts"] = {
            "type": "conversation_part.list",
            "conversation_parts": [part_json(p) for p in parts],
            "total_count": len(parts),
        }
    return data


def full_conversation_json(conversation: IntercomConversation) -> dict:
    parts = list(conversation.parts.exclude(part_type=Part.Type.SOURCE))
    return conversation_json(conversation, parts)


# --- lookups, scoped to the token's workspace ---------------------------------------------


def _contact(workspace: IntercomWorkspace, contact_id) -> IntercomContact:
    contact = IntercomContact.objects.filter(
        workspace=workspace.id_code, intercom_id=str(contact_id)
    ).first()
    if contact is None:
        raise _not_found()
    return contact


def _conversation(workspace: IntercomWorkspace, conversation_id: str) -> IntercomConversation:
    if not str(conversation_id).isdigit():
        raise _not_found()
    conversation = (
        IntercomConversation.objects.filter(workspace=workspace.id_code, pk=int(conversation_id))
        .select_related("contact")
        .first()
    )
    if conversation is None:
        raise _not_found()
    return conversation


def workspace_admin(workspace: IntercomWorkspace, admin_id) -> IntercomAdmin | None:
    return next((a for a in workspace.admins if a.id == str(admin_id)), None)


def _admin(workspace: IntercomWorkspace, body: dict) -> IntercomAdmin:
    admin_id = body.get("admin_id")
    if admin_id in (None, ""):
        raise _invalid("admin_id is required.")
    admin = workspace_admin(workspace, admin_id)
    if admin is None:
        raise _invalid(f"admin_id {admin_id} is not a teammate of this workspace.")
    return admin


# --- contacts -------------------------------------------------------------------------------

CONTACT_FIELDS = {
    "id": search.STRING,
    "external_id": search.STRING,
    "role": search.STRING,
    "email": search.STRING,
    "phone": search.STRING,
    "formatted_phone": search.STRING,
    "name": search.STRING,
    "created_at": search.DATE,
    "updated_at": search.DATE,
    "signed_up_at": search.DATE,
    "last_replied_at": search.DATE,
}


def _contact_row(contact: IntercomContact) -> dict:
    return {
        "id": contact.intercom_id,
        "external_id": contact.external_id or None,
        "role": contact.role,
        "email": contact.email,
        "phone": contact.phone,
        "formatted_phone": contact.phone,
        "name": contact.name,
        "created_at": ts(contact.created_at),
        "updated_at": ts(contact.updated_at),
        "signed_up_at": ts(contact.signed_up_at),
        "last_replied_at": ts(contact.last_replied_at),
    }


@api("POST", "GET")
def contacts(request, workspace):
    if request.method == "GET":
        per_page, offset = _query_pagination(request)
        rows = IntercomContact.objects.filter(workspace=workspace.id_code)
        page = search.paginate(rows, per_page, offset)
        return _list(page, [contact_json(c) for c in page.rows])

    body = _body(request)
    role = body.get("role") or "user"
    if role not in ("user", "lead"):
        raise _invalid(f"role must be user or lead, not “{role}”.", "data_invalid")
    external_id = _text(body, "external_id")
    email = _text(body, "email")
    if not (external_id or email or body.get("role")):
        raise _invalid("Give at least one of role, email or external_id.")
    if email and "@" not in email:
        raise _invalid(f"“{email}” is not an email address.", "data_invalid")
    fields = {
        "role": role,
        "external_id": external_id,
        "email": email,
        "phone": _text(body, "phone", limit=64),
        "name": _text(body, "name"),
        "avatar": _text(body, "avatar", limit=2048),
        "custom_attributes": _custom_attributes(body),
    }
    if isinstance(body.get("signed_up_at"), int):
        fields["signed_up_at"] = datetime.fromtimestamp(body["signed_up_at"], UTC)
    try:
        with transaction.atomic():
            contact = IntercomContact.objects.create(workspace=workspace.id_code, **fields)
    except IntegrityError:
        existing = IntercomContact.objects.get(workspace=workspace.id_code, external_id=external_id)
        raise ApiError(
            409,
            "conflict",
            f"A contact matching those details already exists with id={existing.intercom_id}",
        ) from None
    return contact_json(contact)


def _custom_attributes(body: dict) -> dict:
    value = body.get("custom_attributes") or {}
    if not isinstance(value, dict):
        raise _invalid("custom_attributes must be an object.")
    return value


@api("GET", "DELETE")
def contact(request, workspace, contact_id):
    found = _contact(workspace, contact_id)
    if request.method == "DELETE":
        # Intercom deletes the contact with its conversations.
        found.delete()
        return {"id": contact_id, "object": "contact", "deleted": True}
    return contact_json(found)


@api("POST")
def contact_unarchive(request, workspace, contact_id):
    # The sandbox archives no one: unarchiving is a no-op that answers as Intercom does.
    contact = _contact(workspace, contact_id)
    return {
        "type": "contact",
        "id": contact.intercom_id,
        "external_id": contact.external_id or None,
        "archived": False,
    }


@api("GET")
def contact_by_external_id(request, workspace, external_id):
    contact = IntercomContact.objects.filter(
        workspace=workspace.id_code, external_id=external_id
    ).first()
    if contact is None:
        raise _not_found()
    return contact_json(contact)


@api("POST")
def contacts_search(request, workspace):
    body = _body(request)
    page = _search(
        body,
        IntercomContact.objects.filter(workspace=workspace.id_code),
        CONTACT_FIELDS,
        _contact_row,
        workspace,
    )
    return _list(page, [contact_json(c) for c in page.rows])


def _search(body: dict, queryset, fields: dict, row_of: Callable, workspace) -> search.Page:
    if "query" not in body:
        raise _invalid("query is required.")
    try:
        matches = search.compile_query(body["query"], fields, timezone=workspace.timezone)
        rows = [(item, row_of(item)) for item in queryset]
        rows = [(item, row) for item, row in rows if matches(row)]
        rows = search.sort_rows(rows, body.get("sort"), fields, lambda pair, f: pair[1].get(f))
        per_page, offset = search.pagination(body.get("pagination"))
    except search.SearchError as error:
        raise _invalid(str(error), error.code) from None
    return search.paginate([item for item, _ in rows], per_page, offset)


def _query_pagination(request) -> tuple[int, int]:
    try:
        return search.pagination(
            {k: request.GET[k] for k in ("per_page", "starting_after") if k in request.GET}
        )
    except search.SearchError as error:
        raise _invalid(str(error)) from None


def _list(page: search.Page, data: list, *, key: str = "data", kind: str = "list") -> dict:
    return {"type": kind, key: data, "total_count": page.total_count, "pages": page.pages}


# --- conversations ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Content:
    body: str
    attachments: list


def _attachments(body: dict) -> list:
    urls = body.get("attachment_urls") or []
    files = body.get("attachment_files") or []
    if not isinstance(urls, list) or not isinstance(files, list):
        raise _invalid("attachment_urls and attachment_files must be lists.")
    if len(urls) + len(files) > MAX_ATTACHMENTS:
        raise _invalid(f"At most {MAX_ATTACHMENTS} attachments per message.", "data_invalid")
    uploads = []
    for url in urls:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise _invalid(f"“{url}” is not an http(s) URL.", "data_invalid")
        name = basename(unquote(parts.path)) or "attachment"
        uploads.append(_upload(name, url, mimetypes.guess_type(name)[0]))
    for item in files:
        uploads.append(_file_upload(item))
    return uploads


def _upload(name: str, url: str, content_type: str | None, size: int = 0) -> dict:
    return {
        "type": "upload",
        "name": name,
        "url": url,
        "content_type": content_type or "application/octet-stream",
        "filesize": size,
        "width": None,
        "height": None,
    }


def _file_upload(item) -> dict:
    if not isinstance(item, dict) or not all(
        isinstance(item.get(k), str) and item.get(k) for k in ("content_type", "data", "name")
    ):
        raise _invalid("Each attachment file needs content_type, data (base64) and name.")
    try:
        size = len(base64.b64decode(item["data"], validate=True))
    except (binascii.Error, ValueError):
        raise _invalid(f"The data of {item['name']} is not base64.", "data_invalid") from None
    # Kept as a data: URL: the inbox page can show it with nothing else to host.
    url = f"data:{item['content_type']};base64,{item['data']}"
    return _upload(item["name"], url, item["content_type"], size)


def _content(body: dict, *, body_required: bool = True) -> _Content:
    text = body.get("body")
    if text is not None and not isinstance(text, str):
        raise _invalid("body must be a string.")
    attachments = _attachments(body)
    if body_required and not (text or "").strip() and not attachments:
        raise _invalid("body is required.")
    return _Content(text or "", attachments)


def _add_part(
    conversation: IntercomConversation,
    part_type: str,
    *,
    author: IntercomAdmin | IntercomContact,
    content: _Content | None = None,
    app_package_code: str = APP_PACKAGE_CODE,
    **extra,
) -> IntercomPart:
    now = timezone.now()
    if isinstance(author, IntercomAdmin):
        who = {
            "author_type": Part.Author.ADMIN,
            "author_id": author.id,
            "author_name": author.name,
            "author_email": author.email,
        }
    else:
        who = {
            "author_type": author.role,
            "author_id": author.intercom_id,
            "author_name": author.name,
            "author_email": author.email,
        }
    part = IntercomPart.objects.create(
        conversation=conversation,
        part_type=part_type,
        body=content.body if content else "",
        attachments=content.attachments if content else [],
        app_package_code=app_package_code,
        created_at=now,
        **who,
        **extra,
    )
    conversation.updated_at = now
    return part


def _contact_from(workspace: IntercomWorkspace, sender) -> IntercomContact:
    if not isinstance(sender, dict):
        raise _invalid("from must be an object with type and id.")
    if sender.get("type") not in CONTACT_ROLES:
        raise _invalid("from.type must be user, lead or contact.")
    if not sender.get("id"):
        raise _invalid("from.id is required.")
    contact = IntercomContact.objects.filter(
        workspace=workspace.id_code, intercom_id=str(sender["id"])
    ).first()
    if contact is None:
        raise _not_found("User Not Found")
    return contact


@api("POST")
def conversations(request, workspace):
    body = _body(request)
    contact = _contact_from(workspace, body.get("from"))
    content = _content(body)
    with transaction.atomic():
        conversation = IntercomConversation.objects.create(
            workspace=workspace.id_code, contact=contact
        )
        source = _add_part(conversation, Part.Type.SOURCE, author=contact, content=content)
        conversation.created_at = conversation.waiting_since = source.created_at
        conversation.save()
        contact.last_replied_at = source.created_at
        contact.save(update_fields=["last_replied_at"])
    return {
        "type": "user_message",
        "id": str(source.pk),
        "created_at": ts(source.created_at),
        "body": source.body,
        "message_type": "inapp",
        "conversation_id": str(conversation.pk),
    }


@api("POST")
def admin_messages(request, workspace):
    """An admin-initiated message (``POST /messages``). Only the in-app kind with
    ``create_conversation_without_contact_reply`` opens a conversation at once, which
    is what Octopods' "Send & open conversation" asks for; the answer is the Message,
    with its ``conversation_id``."""
    body = _body(request)
    sender = body.get("from")
    if not isinstance(sender, dict) or sender.get("type") != "admin":
        raise _invalid("from must be an object with type admin and an id.")
    admin = _admin(workspace, {"admin_id": sender.get("id")})
    recipient = body.get("to")
    if not isinstance(recipient, dict) or recipient.get("type") not in CONTACT_ROLES:
        raise _invalid("to must be an object with type user, lead or contact and an id.")
    contact = _contact_from(workspace, recipient)
    if body.get("message_type") not in ("inapp", "email"):
        raise _invalid("message_type must be inapp or email.")
    content = _content(body)
    opened = body.get("create_conversation_without_contact_reply") is True
    answer = {
        "type": "admin_message",
        "created_at": ts(timezone.now()),
        "body": content.body,
        "message_type": body["message_type"],
        "owner": {"type": "admin", "id": admin.id, "name": admin.name, "email": admin.email},
    }
    if not opened:
        # Intercom opens the conversation only once the contact replies.
        return {**answer, "id": f"msg-{contact.intercom_id}-{answer['created_at']}"}
    with transaction.atomic():
        conversation = IntercomConversation.objects.create(
            workspace=workspace.id_code, contact=contact, read=True
        )
        source = _add_part(conversation, Part.Type.SOURCE, author=admin, content=content)
        conversation.created_at = source.created_at
        conversation.save()
    return {**answer, "id": str(source.pk), "conversation_id": str(conversation.pk)}


@api("GET")
def conversation(request, workspace, conversation_id):
    return full_conversation_json(_conversation(workspace, conversation_id))


def _replying_contact(workspace: IntercomWorkspace, body: dict) -> IntercomContact:
    scope = IntercomContact.objects.filter(workspace=workspace.id_code)
    if body.get("intercom_user_id"):
        contact = scope.filter(intercom_id=str(body["intercom_user_id"])).first()
    elif body.get("user_id"):
        contact = scope.filter(external_id=str(body["user_id"])).first()
    elif body.get("email"):
        contact = scope.filter(email__iexact=str(body["email"])).first()
    else:
        raise _invalid("Name the contact with intercom_user_id, user_id or email.")
    if contact is None:
        raise _not_found("User Not Found")
    return contact


@api("POST")
def reply(request, workspace, conversation_id):
    body = _body(request)
    kind = body.get("type")
    if kind is None:
        kind = "admin" if body.get("admin_id") else "user"
    if kind == "admin":
        return _admin_reply(workspace, conversation_id, body)
    if kind in CONTACT_ROLES:
        return _contact_reply(workspace, conversation_id, body)
    raise _invalid("type must be admin, user, lead or contact.")


def _contact_reply(workspace, conversation_id: str, body: dict) -> dict:
    contact = _replying_contact(workspace, body)
    message_type = body.get("message_type", "comment")
    if message_type != "comment":
        raise _invalid("A contact can only reply with message_type comment.")
    if conversation_id == "last":
        conversation = contact.conversations.order_by("-updated_at", "-pk").first()
        if conversation is None:
            raise _not_found()
    else:
        conversation = _conversation(workspace, conversation_id)
        if conversation.contact_id != contact.pk:
            raise _invalid("That contact is not part of this conversation.")
    content = _content(body)
    # A customer writing again reopens a closed or snoozed conversation; Intercom records
    # that reply as an "open" part carrying the message.
    part_type = Part.Type.COMMENT if conversation.state == State.OPEN else Part.Type.OPEN
    with transaction.atomic():
        part = _add_part(conversation, part_type, author=contact, content=content)
        conversation.state = State.OPEN
        conversation.snoozed_until = None
        conversation.read = False
        conversation.waiting_since = conversation.waiting_since or part.created_at
        conversation.save()
        contact.last_replied_at = part.created_at
        contact.save(update_fields=["last_replied_at"])
    return full_conversation_json(conversation)


def _admin_reply(workspace, conversation_id: str, body: dict) -> dict:
    admin = _admin(workspace, body)
    message_type = body.get("message_type", "comment")
    if message_type not in ("comment", "note", "quick_reply"):
        raise _invalid("message_type must be comment, note or quick_reply.")
    conversation = _conversation(workspace, conversation_id)
    content = _content(body)
    part_type = Part.Type.NOTE if message_type == "note" else Part.Type.COMMENT
    with transaction.atomic():
        _add_part(conversation, part_type, author=admin, content=content)
        if part_type == Part.Type.COMMENT:
            conversation.waiting_since = None
        conversation.save()
    return full_conversation_json(conversation)


@api("POST")
def parts(request, workspace, conversation_id):
    body = _body(request)
    admin = _admin(workspace, body)
    conversation = _conversation(workspace, conversation_id)
    message_type = body.get("message_type")
    content = _content(body, body_required=False)
    extra = {}
    if message_type == "close":
        conversation.state = State.CLOSED
    elif message_type == "open":
        conversation.state = State.OPEN
        conversation.snoozed_until = None
    elif message_type == "snoozed":
        until = body.get("snoozed_until")
        if not isinstance(until, int):
            raise _invalid("snoozed_until must be a Unix timestamp.")
        conversation.state = State.SNOOZED
        conversation.snoozed_until = datetime.fromtimestamp(until, UTC)
    elif message_type == "assignment":
        extra["assigned_to"] = _assign(workspace, conversation, body)
    else:
        raise _invalid("message_type must be close, open, snoozed or assignment.")
    with transaction.atomic():
        _add_part(conversation, message_type, author=admin, content=content, **extra)
        conversation.save()
    return full_conversation_json(conversation)


def _assign(workspace, conversation: IntercomConversation, body: dict) -> str:
    assignee = str(body.get("assignee_id") or "")
    if not assignee:
        raise _invalid("assignee_id is required.")
    if body.get("type") == "team":
        conversation.team_assignee_id = "" if assignee == "0" else assignee
        return ""
    if assignee != "0" and workspace_admin(workspace, assignee) is None:
        raise _invalid(f"assignee_id {assignee} is not a teammate of this workspace.")
    conversation.admin_assignee_id = "" if assignee == "0" else assignee
    return conversation.admin_assignee_id


CONVERSATION_FIELDS = {
    "id": search.STRING,
    "created_at": search.DATE,
    "updated_at": search.DATE,
    "waiting_since": search.DATE,
    "open": search.BOOL,
    "read": search.BOOL,
    "state": search.STRING,
    "contact_ids": search.LIST,
    "tag_ids": search.LIST,
    "admin_assignee_id": search.STRING,
    "team_assignee_id": search.STRING,
    "source.author.id": search.STRING,
    "source.author.email": search.STRING,
    "source.author.name": search.STRING,
    "source.body": search.STRING,
}


def _conversation_row(conversation: IntercomConversation) -> dict:
    source = next((p for p in conversation.parts.all() if p.part_type == Part.Type.SOURCE), None)
    return {
        "id": str(conversation.pk),
        "created_at": ts(conversation.created_at),
        "updated_at": ts(conversation.updated_at),
        "waiting_since": ts(conversation.waiting_since),
        "open": conversation.is_open,
        "read": conversation.read,
        "state": conversation.state,
        "contact_ids": [conversation.contact.intercom_id],
        "tag_ids": [str(tag.pk) for tag in conversation.tags.all()],
        "admin_assignee_id": conversation.admin_assignee_id,
        "team_assignee_id": conversation.team_assignee_id,
        "source.author.id": source.author_id if source else None,
        "source.author.email": source.author_email if source else None,
        "source.author.name": source.author_name if source else None,
        "source.body": source.body if source else None,
    }


@api("POST")
def conversations_search(request, workspace):
    body = _body(request)
    queryset = (
        IntercomConversation.objects.filter(workspace=workspace.id_code)
        .select_related("contact")
        .prefetch_related("parts", "tags")
    )
    page = _search(body, queryset, CONVERSATION_FIELDS, _conversation_row, workspace)
    return _list(
        page,
        [conversation_json(c) for c in page.rows],
        key="conversations",
        kind="conversation.list",
    )


# --- tags ---------------------------------------------------------------------------------


def _tag(tag: IntercomTag) -> dict:
    return {"type": "tag", "id": str(tag.pk), "name": tag.name}


@api("POST", "GET")
def tags(request, workspace):
    if request.method == "GET":
        scope = IntercomTag.objects.filter(workspace=workspace.id_code)
        return {"type": "list", "data": [_tag(t) for t in scope]}
    body = _body(request)
    name = _text(body, "name", required=True).strip()
    if not name:
        raise _invalid("name is required.")
    if body.get("id"):
        tag = IntercomTag.objects.filter(
            workspace=workspace.id_code, pk=_digits(body["id"])
        ).first()
        if tag is None:
            raise _not_found()
        tag.name = name
        try:
            with transaction.atomic():
                tag.save(update_fields=["name"])
        except IntegrityError:
            raise _invalid(f"A tag named “{name}” already exists.", "data_invalid") from None
        return _tag(tag)
    scope = IntercomTag.objects.filter(workspace=workspace.id_code)
    tag = scope.filter(name__iexact=name).first()
    if tag is None:
        try:
            with transaction.atomic():
                tag = IntercomTag.objects.create(workspace=workspace.id_code, name=name)
        except IntegrityError:
            # Two requests created the same tag at once: the other one won.
            tag = scope.get(name__iexact=name)
    return _tag(tag)


def _digits(value) -> int:
    text = str(value)
    if not text.isdigit():
        raise _not_found()
    return int(text)


@api("POST")
def conversation_tags(request, workspace, conversation_id):
    body = _body(request)
    admin = _admin(workspace, body)
    conversation = _conversation(workspace, conversation_id)
    if body.get("id") in (None, ""):
        raise _invalid("id (the tag's id) is required.")
    tag = IntercomTag.objects.filter(workspace=workspace.id_code, pk=_digits(body["id"])).first()
    if tag is None:
        raise _not_found()
    with transaction.atomic():
        IntercomTagging.objects.get_or_create(
            conversation=conversation, tag=tag, defaults={"applied_by": admin.id}
        )
    return _tag(tag)


# --- faults: a sandbox-only control, not part of Intercom's API ----------------------------


@csrf_exempt
def faults(request):
    """Arm failures: ``POST {status, count, workspace?, delay_ms?}`` makes the next
    ``count`` API calls (of that workspace's id_code, or any) answer ``status`` after
    ``delay_ms`` (status 200: carried out, then answered late); GET lists what is
    armed; DELETE disarms everything."""
    if request.method == "DELETE":
        IntercomFault.objects.all().delete()
    elif request.method == "POST":
        try:
            params = request_params(request, unreadable_json="The body is not a JSON object.")
            status, count = int(params.get("status", "")), int(params.get("count", 1))
            delay_ms = int(params.get("delay_ms", 0))
        except (BadRequest, TypeError, ValueError):
            return _fault_problem(
                "Send status (200, or 400 to 599), count (1 to 1000) and delay_ms (0 to "
                "60000) as numbers."
            )
        workspace = str(params.get("workspace") or "")
        if not (status == 200 or 400 <= status <= 599) or not 1 <= count <= 1000:
            return _fault_problem("status must be 200 or 400 to 599 and count 1 to 1000.")
        if not 0 <= delay_ms <= 60_000 or (status == 200 and not delay_ms):
            return _fault_problem("delay_ms must be 0 to 60000 (and set, with status 200).")
        if workspace and intercom_workspace(workspace) is None:
            return _fault_problem(f"No fake workspace has the id_code “{workspace}”.")
        IntercomFault.objects.create(
            status=status, remaining=count, workspace=workspace, delay_ms=delay_ms
        )
    elif request.method != "GET":
        return _fault_problem("Use GET, POST or DELETE.", status=405)
    armed = IntercomFault.objects.filter(remaining__gt=0)
    return JsonResponse(
        {
            "faults": [
                {
                    "status": f.status,
                    "remaining": f.remaining,
                    "workspace": f.workspace or None,
                    "delay_ms": f.delay_ms,
                }
                for f in armed
            ]
        }
    )


def _fault_problem(message: str, *, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)
