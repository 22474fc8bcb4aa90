"""HubSpot as the inbox: connecting (OAuth, identity) and the message path through the
app's Conversations custom channel (PROVIDERS.md §2.2).

Every Octopods channel becomes a channel account of our one custom channel, in one of
the portal's inboxes. A customer's message is published INCOMING in the thread named by
our ``integrationThreadId`` (the customer's ``<kind>:<id>``), so HubSpot keeps one
thread per customer per channel; agents' replies come back as
``OUTGOING_CHANNEL_MESSAGE_CREATED`` webhooks, and we set each one's status once it is
sent or has failed.
"""

from datetime import UTC, datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from ..base import (
    Identity,
    InboxAdapter,
    InboxDelivery,
    InboxEvent,
    InboxRefs,
    ProviderError,
    TokenSet,
)
from ..errors import provider_call
from ..phone_identity import canonical
from ..registry import channel_labels
from . import client, webhooks
from .client import HubSpotClient

CHANNEL_NAME = "Octopods"
# The phone number where the customer has one, so HubSpot can match the thread to a
# contact; otherwise our own id for them. Agents cannot start conversations: a thread
# is named by the customer's channel id, which only a customer's first message gives.
CAPABILITIES = {
    "threadingModel": "INTEGRATION_THREAD_ID",
    "deliveryIdentifierTypes": ["HS_PHONE_NUMBER", "CHANNEL_SPECIFIC_OPAQUE_ID"],
    "allowOutgoingMessages": True,
    "outgoingAttachmentTypes": ["FILE"],
}
NOT_CONFIGURED = (
    "HubSpot's custom channel is not set up in Octopods: create it once with "
    "`manage.py hubspot_custom_channel` and put the id it prints in HUBSPOT_CUSTOM_CHANNEL_ID."
)


def custom_channel_definition() -> dict:
    """Our custom channel as HubSpot registers it (``hubspot_custom_channel``)."""
    return {
        "name": CHANNEL_NAME,
        "channelDescription": f"{channel_labels()} conversations, relayed by Octopods.",
        "webhookUrl": settings.PUBLIC_BASE_URL + reverse("channels:hubspot_webhook"),
        "capabilities": CAPABILITIES,
    }


def _channel_id() -> str:
    if not settings.HUBSPOT_CUSTOM_CHANNEL_ID:
        raise ProviderError(NOT_CONFIGURED, permanent=True, code="channel_not_configured")
    return settings.HUBSPOT_CUSTOM_CHANNEL_ID


class HubSpotAdapter(InboxAdapter):
    provider = "hubspot"
    label = "HubSpot"
    conflict_message = "This HubSpot Portal has been activated under a different account."
    uses_pkce = True

    def is_configured(self) -> bool:
        return bool(settings.HUBSPOT_CLIENT_ID and settings.HUBSPOT_CLIENT_SECRET)

    def authorization_url(self, *, state, redirect_uri, code_challenge):
        return client.authorization_url(
            state=state, redirect_uri=redirect_uri, code_challenge=code_challenge
        )

    def exchange_code(self, *, code, redirect_uri, code_verifier):
        return client.exchange_code(
            code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
        )

    def identify(self, *, tokens: TokenSet) -> Identity:
        info = client.token_info(access_token=tokens.access_token)
        with provider_call(client.LABEL, client.describe_error):
            hub_id = str(int(info["hub_id"]))
            name = info.get("hub_domain") or f"HubSpot portal {hub_id}"
        return Identity(external_id=hub_id, name=name)

    def refresh(self, *, refresh_token: str) -> TokenSet:
        return client.refresh(refresh_token=refresh_token)

    def check(self, *, tokens: TokenSet) -> None:
        client.token_info(access_token=tokens.access_token)

    def revoke(self, *, tokens: TokenSet) -> None:
        # Deleting the refresh token stops any new access token; the current one
        # lapses within its 30 minutes.
        if tokens.refresh_token:
            client.delete_refresh_token(refresh_token=tokens.refresh_token)

    # --- channel accounts ------------------------------------------------------------

    def channel_connect(self, *, tokens: TokenSet, name: str, identity: str) -> str:
        """A channel account of our custom channel in the portal's first inbox.

        The first inbox HubSpot lists is taken: most portals have just one, and the
        add-channel form does not ask for one yet. (HubSpot's connection flow, where an
        admin picks the inbox in HubSpot itself, would replace this choice.)"""
        channel_id = _channel_id()
        api = HubSpotClient(tokens.access_token)
        inboxes = api.inboxes()
        if not inboxes:
            raise ProviderError(
                "The HubSpot portal has no conversations inbox or help desk to put the "
                "channel in. Create one in HubSpot, then add the channel again.",
                permanent=True,
                code="no_inbox",
            )
        account = api.create_channel_account(
            channel_id,
            {
                "name": name,
                "inboxId": str(inboxes[0]["id"]),
                "authorized": True,
                "deliveryIdentifier": {"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": identity},
            },
        )
        with provider_call(client.LABEL, client.describe_error):
            return str(account["id"])

    def channel_disconnect(self, *, tokens: TokenSet, channel_account_id: str) -> None:
        # Disabled rather than deleted: the account's threads stay in HubSpot for the
        # team to read.
        HubSpotClient(tokens.access_token).update_channel_account(
            _channel_id(), channel_account_id, {"authorized": False}
        )

    # --- the message path ------------------------------------------------------------

    def deliver(self, *, tokens: TokenSet, delivery: InboxDelivery) -> InboxRefs:
        """Publish the customer's message INCOMING in their thread.

        No contact to find and no conversation to open: HubSpot threads by our
        ``integrationThreadId`` and makes a repeated ``integrationIdempotencyId`` a
        no-op (RELIABILITY.md §2.3). So ``reconcile`` needs nothing extra — publishing
        again with the same key is the check — and ``tag``, ``match`` and ``admin_id``
        play no part."""
        channel_id = _channel_id()
        if not delivery.channel_account_id:
            raise ProviderError(
                "This channel is not connected in HubSpot (it has no channel account). "
                "Remove the channel and add it again.",
                permanent=True,
                code="no_channel_account",
            )
        sender = _sender_identifier(delivery)
        message = {
            "messageDirection": "INCOMING",
            "channelAccountId": delivery.channel_account_id,
            "integrationThreadId": delivery.customer.external_id,
            "text": _text(delivery),
            "timestamp": _iso(delivery.sent_at or timezone.now()),
            "senders": [_participant(sender, delivery.customer.name)],
            # The channel account the customer wrote to, by the identity it was connected
            # with (its id where a delivery does not say).
            "recipients": [
                _participant(
                    {
                        "type": "CHANNEL_SPECIFIC_OPAQUE_ID",
                        "value": delivery.channel_identity or delivery.channel_account_id,
                    }
                )
            ],
            # Files go in as links in the text for now; attaching them needs an upload
            # to HubSpot's Files API first (a FILE attachment takes a fileId).
            "attachments": [],
        }
        if delivery.idempotency_key:
            message["integrationIdempotencyId"] = delivery.idempotency_key
        published = HubSpotClient(tokens.access_token).publish_message(channel_id, message)
        with provider_call(client.LABEL, client.describe_error):
            thread_id = str(published["conversationsThreadId"])
            part_id = str(published["id"])
        return InboxRefs(
            contact_id=sender["value"],
            conversation_id=thread_id,
            part_id=part_id,
            opened=thread_id != delivery.conversation_id,
        )

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
        # Custom channels have no internal notes. The nearest thing is a message the
        # channel account publishes OUTGOING in the customer's thread: the team sees
        # what an automatic reply told the customer where it happened. (The customer
        # is not sent it again: we deliver channel messages ourselves.)
        if not (customer_external_id and channel_account_id):
            raise ProviderError(
                "HubSpot needs the customer's thread and the channel account to show a "
                "message in a conversation.",
                permanent=True,
                code="note_without_thread",
            )
        HubSpotClient(tokens.access_token).publish_message(
            _channel_id(),
            {
                "messageDirection": "OUTGOING",
                "channelAccountId": channel_account_id,
                "integrationThreadId": customer_external_id,
                "text": body,
                "timestamp": _iso(timezone.now()),
                "senders": [
                    _participant(
                        {"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": channel_account_id}
                    )
                ],
                "recipients": [
                    _participant(
                        {"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": customer_external_id}
                    )
                ],
                "attachments": [],
            },
        )

    def reply_outcome(
        self,
        *,
        tokens: TokenSet,
        conversation_id: str,
        part_id: str,
        admin_id: str,
        error: str = "",
    ) -> None:
        # HubSpot shows the status on the agent's message, and the reason of a FAILED
        # one beside it: that is where the agent looks.
        changes = (
            {"statusType": "FAILED", "errorMessage": error} if error else {"statusType": "SENT"}
        )
        HubSpotClient(tokens.access_token).update_message(_channel_id(), part_id, changes)

    def verify_webhook(self, *, request) -> None:
        webhooks.verify(secret=settings.HUBSPOT_CLIENT_SECRET, request=request)

    def parse_webhook(self, *, request) -> list[InboxEvent]:
        return webhooks.parse(request=request)


def _sender_identifier(delivery: InboxDelivery) -> dict:
    customer = delivery.customer
    if customer.phone:
        # HubSpot files the thread under the contact with this number: the form an agent
        # types and libphonenumber calls valid (integrations/phone_identity.py), whichever
        # form the channel reported.
        return {"type": "HS_PHONE_NUMBER", "value": canonical(customer.phone)}
    return {"type": "CHANNEL_SPECIFIC_OPAQUE_ID", "value": customer.external_id}


def _participant(identifier: dict, name: str = "") -> dict:
    participant = {"deliveryIdentifier": identifier}
    if name:
        participant["name"] = name
    return participant


def _text(delivery: InboxDelivery) -> str:
    return "\n".join(part for part in (delivery.body, *delivery.attachment_urls) if part)


def _iso(moment: datetime) -> str:
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
