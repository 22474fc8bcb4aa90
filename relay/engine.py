"""The relay: customer messages into the inbox, agent replies out on the channel.

PostgreSQL is the record of what still has to happen: a message waits in its row
(inbound ``received``, outbound ``pending``) until the relay has done it. Redis only
carries wake-ups (relay/wakeup.py) and the sweeper re-wakes whatever is due, so a lost
wake-up costs latency, never a message.

One worker relays a contact at a time: it claims the contact with a lease (an UPDATE
that succeeds for one worker only; relay/lease.py) and holds no database lock across
provider calls. Within a contact each direction goes oldest first (relay/inbound.py,
relay/outbound.py), and a message that has to wait (a transient failure, backing off)
holds back the ones after it in the same direction: order is kept, per customer. A
message the provider refuses for good is marked failed and the next one goes; an agent
learns of a reply that could not be sent from a note in the conversation
(relay/notes.py).
"""

import logging

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from channels.models import Contact
from octopods import logs
from octopods.prepared import Prepared

from .backlog import Backlog, RelayResult, arrived_meanwhile, due_messages
from .inbound import relay_inbound
from .inbox import admins_first_to_last
from .lease import LeaseLost, claim, release
from .outbound import relay_outbound
from .wakeup import publish

logger = logging.getLogger(__name__)


# The contact, its channel and workspace, and the workspace's default admin (see
# relay/inbox.py, default_admin_id), in one query prepared once.
_contact_with_channel = Prepared(
    lambda pk: (
        Contact.objects.select_related("channel__workspace")
        .annotate(
            default_admin_id=Subquery(
                admins_first_to_last(OuterRef("channel__workspace")).values("external_id")[:1]
            )
        )
        .filter(pk=pk)
    ),
    int,
)


# Each message is relayed under its webhook's correlation id (logs.follow); none of them
# outlives the contact's run, so a pool thread starts its next contact clean.
@logs.scoped
def contact_relay(*, contact_id: int) -> RelayResult:
    """Relay what is due for one contact, both directions; a no-op when another worker
    holds the contact (it will do the work)."""
    result = RelayResult()
    lease = claim(contact_id)
    if lease is None:
        return result
    try:
        contact = _contact_with_channel.first(contact_id)
        if contact is None:  # removed with its channel meanwhile
            release(lease)
            return result
        backlog = Backlog(contact)
        relay_inbound(lease, contact, backlog, result)
        if not result.more:
            relay_outbound(lease, contact, backlog, result)
    except LeaseLost:
        logger.warning("contact %s: another worker holds it now; this one stops", contact_id)
        result.more = False
        release(lease)
        return result
    except BaseException:
        release(lease)
        raise
    release(lease)
    # A message stored while the contact was held was woken for, but its wake-up found
    # the contact taken: look once more now that it is given back. Only where this run
    # saw nothing left, so a message held back behind one that waits is not run for
    # again and again.
    if not result.more and result.drained:
        result.more = arrived_meanwhile(contact_id, result.drained)
    return result


def contacts_due(*, limit: int = 1000) -> list[int]:
    """Contacts with a message whose time has come and no worker on them: the sweeper
    wakes each. Messages of workspaces that are not Active wait."""
    now = timezone.now()
    return list(
        due_messages(now)
        .filter(Q(contact__relay_lease_until__isnull=True) | Q(contact__relay_lease_until__lt=now))
        .values_list("contact_id", flat=True)
        .distinct()[:limit]
    )


def relay_contact_once(contact_id: int) -> RelayResult:
    """Relay one contact, wake it again if there is more than a batch, and log what
    was done: what a dispatcher thread and the relay_contact task both run."""
    result = contact_relay(contact_id=contact_id)
    if result.more:
        publish([contact_id])
    if result.relayed or result.sent or result.failed:
        logger.info(
            "contact %s: %d relayed, %d sent, %d failed",
            contact_id,
            result.relayed,
            result.sent,
            result.failed,
        )
    return result
