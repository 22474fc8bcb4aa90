"""Intercom as the inbox: connecting (OAuth, identity) and the message path — a
customer's message in as the contact, notes as a teammate, and its webhooks.

Intercom has no idempotency key for REST writes, so a delivery whose earlier attempt
ended without an answer looks for its own part before posting again (RELIABILITY.md
§2.3).
"""

import html
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from ..base import (
    Identity,
    InboxAdapter,
    InboxAdminInfo,
    InboxDelivery,
    InboxEvent,
    InboxRefs,
    ProviderError,
    TokenSet,
)
from ..errors import provider_call
from ..phone_identity import canonical, equivalents
from . import client, webhooks
from .client import IntercomClient

logger = logging.getLogger(__name__)

# Intercom refuses more on one message (attachment_urls, PROVIDERS.md §1.5).
MAX_ATTACHMENTS = 10
# Enough to see every contact that shares a phone number or our external id.
CONTACT_PAGE = 20
CONVERSATION_PAGE = 20
# How far back an earlier attempt of the same delivery may have landed: the relay
# retries an unanswered attempt with a capped backoff that spans about an hour and a
# half, and a wider window only adds older look-alikes to mistake for ours.
RECONCILE_WINDOW = 2 * 60 * 60  # seconds
# Answers to a reply that a new conversation gets past. 404: the conversation is gone
# (deleted, or merged away) — or the contact is, which opening one finds out too. 400
# and 422 (parameter_invalid, data_invalid) are also how Intercom refuses a reply to a
# conversation the contact can no longer reach ("No conversation for this user" on one
# long closed). A fault in our own body fails the create the same way and is raised
# from there: one wasted call, never a second copy, since a refused reply posted
# nothing.
REPLY_REFUSED = {400, 404, 422}


class IntercomAdapter(InboxAdapter):
    provider = "intercom"
    label = "Intercom"
    conflict_message = "This Intercom Workspace has been activated under a different account."
    uses_pkce = False

    def is_configured(self) -> bool:
        return bool(settings.INTERCOM_CLIENT_ID and settings.INTERCOM_CLIENT_SECRET)

    def authorization_url(self, *, state, redirect_uri, code_challenge=""):
        return client.authorization_url(state=state, redirect_uri=redirect_uri)

    def exchange_code(self, *, code, redirect_uri, code_verifier=""):
        return client.exchange_code(code=code, redirect_uri=redirect_uri)

    def identify(self, *, tokens: TokenSet) -> Identity:
        api = IntercomClient(tokens.access_token)
        me = api.me()
        with provider_call(client.LABEL, client.describe_error):
            # The workspace is the app the token was granted for: its id_code is the
            # app_id every webhook and uninstall notice names.
            app = me["app"]
            external_id, name = str(app["id_code"]), str(app.get("name") or app["id_code"])
            admins = tuple(
                InboxAdminInfo(
                    external_id=str(admin["id"]),
                    name=admin.get("name") or "",
                    email=admin.get("email") or "",
                )
                for admin in api.admins()
            )
        return Identity(external_id=external_id, name=name, admins=admins)

    def check(self, *, tokens: TokenSet) -> None:
        IntercomClient(tokens.access_token).me()

    def revoke(self, *, tokens: TokenSet) -> None:
        # Intercom has no API to give up a token: it is revoked when the workspace's
        # admins uninstall the app in Intercom. We forget it on our side.
        return None

    # --- the message path ------------------------------------------------------------

    def deliver(self, *, tokens: TokenSet, delivery: InboxDelivery) -> InboxRefs:
        if len(delivery.attachment_urls) > MAX_ATTACHMENTS:
            raise ProviderError(
                f"Intercom takes at most {MAX_ATTACHMENTS} attachments on one message; "
                f"this one has {len(delivery.attachment_urls)}.",
                permanent=True,
            )
        api = IntercomClient(tokens.access_token)
        with provider_call(client.LABEL, client.describe_error):
            return _Delivery(api, delivery).run()

    def post_note(
        self,
        *,
        tokens: TokenSet,
        conversation_id: str,
        admin_id: str,
        body: str,
        customer_external_id: str = "",
        channel_account_id: str = "",
    ):
        IntercomClient(tokens.access_token).reply(
            conversation_id,
            {
                "message_type": "note",
                "type": "admin",
                "admin_id": admin_id,
                # Notes render simple HTML: our text must not be read as markup.
                "body": webhooks.text_to_html(body),
            },
        )

    def verify_webhook(self, *, request) -> None:
        webhooks.verify(secret=settings.INTERCOM_CLIENT_SECRET, request=request)

    def parse_webhook(self, *, request) -> list[InboxEvent]:
        return webhooks.parse(request=request)

    # --- delivering one message ------------------------------------------------------------

    def test_cleanup(self, *, tokens: TokenSet, refs: InboxRefs, admin_id: str) -> str:
        # Deleting the test lead takes its conversation with it; a conversation left
        # behind (the delete refused) is at least closed.
        api = IntercomClient(tokens.access_token)
        try:
            api.delete_contact(refs.contact_id)
        except ProviderError:
            api.close(refs.conversation_id, admin_id=admin_id)
            return "The test conversation was closed; its lead could not be deleted."
        return "The test lead and its conversation were deleted from Intercom."


@dataclass(frozen=True)
class _Contact:
    id: str
    # "user" or "lead" when Intercom told us; "" for an id from the relay's cache.
    role: str = ""
    cached: bool = False

    @property
    def sender_type(self) -> str:
        # POST /conversations takes the contact's role, or "contact" for either.
        return self.role if self.role in ("user", "lead") else "contact"


@dataclass(frozen=True)
class _Part:
    """A conversation part, or the message that opened the conversation, as far as
    telling ours apart goes."""

    id: str
    author_id: str
    text: str  # whitespace-collapsed text, markup removed
    attachments: int
    created_at: int

    def shows(self, body: str, attachments: int) -> bool:
        return self.text == _collapsed(body) and self.attachments == attachments


class _Delivery:
    def __init__(self, api: IntercomClient, delivery: InboxDelivery):
        self.api = api
        self.delivery = delivery
        customer = delivery.customer
        self.contact = (
            _Contact(id=customer.inbox_contact_id, cached=True)
            if customer.inbox_contact_id
            else None
        )
        self.created_at = _created_at(delivery.sent_at)

    def run(self) -> InboxRefs:
        if self.contact is None:
            self.contact = self._find_or_create_contact()
        if self.delivery.conversation_id:
            refs = self._append(self.delivery.conversation_id)
            if refs is not None:
                return refs
        return self._open()

    # --- the contact -----------------------------------------------------------------

    def _find_or_create_contact(self) -> _Contact:
        customer = self.delivery.customer
        # Every form of the number (integrations/phone_identity.py): a Brazilian known
        # here as +5511987654321 may write from WhatsApp's 551187654321, and the reverse.
        filters = [
            {"field": field, "operator": "=", "value": value}
            for field, value in (
                *(("phone", form) for form in equivalents(customer.phone)),
                ("external_id", customer.external_id),
            )
            if value
        ]
        if filters:
            query = filters[0] if len(filters) == 1 else {"operator": "OR", "value": filters}
            found = self.api.search_contacts(query, per_page=CONTACT_PAGE)
            if found:
                chosen = _pick(found, self.delivery.match)
                return _Contact(id=str(chosen["id"]), role=chosen.get("role") or "")
        # Search is eventually consistent: a contact created minutes ago may not be
        # found yet. Creating it again then answers 409 naming the existing one.
        fields = {"role": "lead", "external_id": customer.external_id}
        if customer.name:
            fields["name"] = customer.name
        if customer.phone:
            # The form an agent types and libphonenumber calls valid.
            fields["phone"] = canonical(customer.phone)
        try:
            created = self.api.create_contact(fields)
        except ProviderError as error:
            existing = _conflicting_contact(error)
            if existing is None:
                raise
            contact_id, archived = existing
            if archived:
                # An archived contact cannot write; it comes back with its history.
                self.api.unarchive_contact(contact_id)
            return _Contact(id=contact_id)
        return _Contact(id=str(created["id"]), role=created.get("role") or "lead")

    # --- an existing conversation ----------------------------------------------------

    def _append(self, conversation_id: str) -> InboxRefs | None:
        """The message as the contact's reply; None when the conversation is gone or
        refused it (a new one is opened instead)."""
        contact, delivery = self.contact, self.delivery
        attachments = len(delivery.attachment_urls)
        if delivery.reconcile:
            try:
                conversation = self.api.conversation(conversation_id)
            except ProviderError as error:
                if error.status != 404:
                    raise
                return None
            part = _landed(
                conversation,
                contact.id,
                delivery.body,
                attachments,
                since=_reconcile_since(self.created_at),
            )
            if part is not None:
                return InboxRefs(
                    contact_id=contact.id,
                    conversation_id=conversation_id,
                    part_id=part.id,
                    opened=False,
                )
        reply = {
            "message_type": "comment",
            "type": "user",
            "intercom_user_id": contact.id,
            "body": delivery.body,
        }
        if delivery.attachment_urls:
            reply["attachment_urls"] = list(delivery.attachment_urls)
        if self.created_at is not None:
            reply["created_at"] = self.created_at
        try:
            conversation = self.api.reply(conversation_id, reply)
        except ProviderError as error:
            if error.status not in REPLY_REFUSED:
                raise
            logger.info(
                "Intercom conversation %s refused a reply (%s %s); opening a new one",
                conversation_id,
                error.status,
                error.code,
            )
            return None
        part = _ours(conversation, contact.id, delivery.body, attachments)
        return InboxRefs(
            contact_id=contact.id,
            conversation_id=conversation_id,
            part_id=part.id if part is not None else "",
            opened=False,
        )

    # --- a new conversation ----------------------------------------------------------

    def _open(self) -> InboxRefs:
        try:
            refs = self._open_as_contact()
        except ProviderError as error:
            if not (self.contact.cached and error.status == 404):
                raise
            # The id we were given is gone: deleted, or merged into another contact
            # (a lead that became a user). Find the customer again, once.
            logger.info("Intercom contact %s is gone; looking the customer up", self.contact.id)
            self.contact = self._find_or_create_contact()
            refs = self._open_as_contact()
        self._tag(refs.conversation_id)
        return refs

    def _open_as_contact(self) -> InboxRefs:
        contact, delivery = self.contact, self.delivery
        if delivery.reconcile:
            refs = self._landed_conversation()
            if refs is not None:
                return refs
        body = {"from": {"type": contact.sender_type, "id": contact.id}, "body": delivery.body}
        if delivery.attachment_urls:
            body["attachment_urls"] = list(delivery.attachment_urls)
        if self.created_at is not None:
            body["created_at"] = self.created_at
        message = self.api.create_conversation(body)
        return InboxRefs(
            contact_id=contact.id,
            conversation_id=str(message["conversation_id"]),
            part_id=str(message["id"]),
            opened=True,
        )

    def _landed_conversation(self) -> InboxRefs | None:
        """A conversation an earlier attempt opened with this message, if there is one."""
        contact, delivery = self.contact, self.delivery
        since = _reconcile_since(self.created_at)
        query = {
            "operator": "AND",
            "value": [
                {"field": "source.author.id", "operator": "=", "value": contact.id},
                {"field": "created_at", "operator": ">", "value": str(since)},
            ],
        }
        found = self.api.search_conversations(query, per_page=CONVERSATION_PAGE)
        matches = [
            (source, conversation)
            for conversation in found
            if (source := _source(conversation)) is not None
            and source.author_id == contact.id
            and source.shows(delivery.body, len(delivery.attachment_urls))
        ]
        if not matches:
            return None
        source, conversation = max(matches, key=lambda match: match[0].created_at)
        return InboxRefs(
            contact_id=contact.id,
            conversation_id=str(conversation["id"]),
            # The opening message's id is the Message id POST /conversations answers.
            part_id=source.id,
            opened=True,
        )

    def _tag(self, conversation_id: str) -> None:
        delivery = self.delivery
        if not delivery.tag:
            return
        if not delivery.admin_id:
            logger.warning(
                "Intercom conversation %s not tagged %r: no teammate to tag it as",
                conversation_id,
                delivery.tag,
            )
            return
        # The message has landed: a tag that fails must not fail the delivery, or the
        # retry would post the message again.
        try:
            with provider_call(client.LABEL, client.describe_error):
                tag = self.api.tag(delivery.tag)
                self.api.tag_conversation(
                    conversation_id, tag_id=str(tag["id"]), admin_id=delivery.admin_id
                )
        except ProviderError as error:
            logger.warning(
                "Intercom conversation %s not tagged %r: %s",
                conversation_id,
                delivery.tag,
                error.message,
            )


def _pick(contacts: list[dict], match: str) -> dict:
    """Of several contacts matching the customer: the preferred role first ("user",
    "lead"; "recent" has none), then the most recently updated."""
    role = match if match in ("user", "lead") else ""
    return max(
        contacts,
        key=lambda contact: (
            bool(role) and contact.get("role") == role,
            _timestamp(contact.get("updated_at")),
        ),
    )


_CONFLICT = re.compile(r"already exists with id=(\w+)")


def _conflicting_contact(error: ProviderError) -> tuple[str, bool] | None:
    """(id, archived) of the contact a 409 says already holds these details."""
    if error.status != 409:
        return None
    found = _CONFLICT.search(error.message)
    if found is None:
        return None
    return found.group(1), "archived" in error.message.lower()


# --- finding our part in a conversation ------------------------------------------------


def _parts(conversation: dict) -> list[_Part]:
    """The conversation's opening message and its parts, oldest first."""
    listing = conversation.get("conversation_parts") or {}
    parts = [_part(part) for part in listing.get("conversation_parts") or []]
    source = _source(conversation)
    return ([source] if source is not None else []) + parts


def _source(conversation: dict) -> _Part | None:
    source = conversation.get("source")
    if not isinstance(source, dict) or not source.get("id"):
        return None
    return _part({**source, "created_at": conversation.get("created_at")})


def _part(part: dict) -> _Part:
    author = part.get("author") or {}
    return _Part(
        id=str(part["id"]),
        author_id=str(author.get("id") or ""),
        text=_text(part.get("body") or ""),
        attachments=len(part.get("attachments") or []),
        created_at=_timestamp(part.get("created_at")),
    )


def _messages_by(conversation: dict, contact_id: str) -> list[_Part]:
    # Parts without text or files by the contact are events (attribute updates and
    # the like), not messages.
    return [
        part
        for part in _parts(conversation)
        if part.author_id == contact_id and (part.text or part.attachments)
    ]


def _ours(conversation: dict, contact_id: str, body: str, attachments: int) -> _Part | None:
    """The part a reply just created: the contact's newest showing our body, else the
    contact's newest (Intercom may have reworded the markup beyond recognition)."""
    messages = _messages_by(conversation, contact_id)
    for part in reversed(_newest_last(messages)):
        if part.shows(body, attachments):
            return part
    return _newest_last(messages)[-1] if messages else None


def _landed(
    conversation: dict, contact_id: str, body: str, attachments: int, *, since: int
) -> _Part | None:
    """Our part, if an earlier attempt posted it: the contact's newest message, when it
    is recent and shows our body and as many files.

    Only the newest: the relay posts a customer's messages in order, so a message that
    landed has nothing of the contact's after it, and an older twin ("ok" twice) is
    not taken for it."""
    messages = _newest_last(_messages_by(conversation, contact_id))
    if not messages:
        return None
    newest = messages[-1]
    if newest.created_at < since:
        return None
    return newest if newest.shows(body, attachments) else None


def _newest_last(parts: list[_Part]) -> list[_Part]:
    return sorted(parts, key=lambda part: part.created_at)  # stable: ties keep order


_MARKUP = re.compile(r"<[^>]*>")


def _text(body: str) -> str:
    # Intercom stores a plain-text message as HTML (<p>…</p>, links made anchors).
    return _collapsed(html.unescape(_MARKUP.sub(" ", body)))


def _collapsed(text: str) -> str:
    return " ".join(text.split())


def _created_at(sent_at: datetime | None) -> int | None:
    """The customer's own time for Intercom's ``created_at`` (Unix seconds), so the
    agent sees when the customer wrote, not when the relay caught up. Never later than
    now: a provider clock ahead of ours must not date a message in the future."""
    if sent_at is None:
        return None
    return min(int(sent_at.timestamp()), int(time.time()))


def _reconcile_since(created_at: int | None) -> int:
    # A part we posted carries the customer's time, which for a message relayed late
    # is older than the window: look back far enough to find it.
    since = int(time.time()) - RECONCILE_WINDOW
    return since if created_at is None else min(since, created_at - 1)


def _timestamp(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
