"""Celery tasks of the relay: thin, by id, safe to run twice (the rows decide).

Wake-ups normally reach the relay through the wake-up set and each worker's dispatcher
(relay/dispatch.py); ``relay_contact`` carries them where there is no Redis. The task
names predate the relay app: kept, so tasks queued by an older release still run.
"""

import logging

from celery import shared_task

from .engine import contacts_due, relay_contact_once
from .wakeup import publish

logger = logging.getLogger(__name__)

# A retry due this soon is woken by the task itself; anything later waits for the
# sweeper (no Celery countdown beyond a minute: Redis redelivers long ones).
SHORT_WAIT = 60


@shared_task(name="channels.relay_contact", ignore_result=True)
def relay_contact(contact_id: int) -> None:
    relay_contact_once(contact_id)


@shared_task(name="channels.sweep", ignore_result=True)
def sweep() -> None:
    """Wake every contact with work that is due and no worker on it."""
    due = contacts_due()
    publish(due)
    if due:
        logger.info("sweep woke %d contacts", len(due))
