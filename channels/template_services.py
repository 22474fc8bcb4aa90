"""Writes for the WhatsApp templates a channel's Business Account holds at Meta: the sync
(when the channel is added, every 3 hours, on Sync now) and Meta's status updates.

Meta is the record; our rows are its copy. A sync upserts every template Meta listed and
removes those it no longer has — but only after a complete listing, so a listing cut
short (a cursor that never ends) never deletes a template it simply did not reach.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Subquery
from django.utils import timezone

from integrations.base import ProviderError
from integrations.channel import TemplateMessage, TemplateStatusUpdate
from integrations.registry import channel_adapter
from integrations.whatsapp import templates
from workspaces.models import Workspace

from .models import Channel, WhatsAppTemplate

logger = logging.getLogger(__name__)

_BATCH = 500


@dataclass(frozen=True)
class TemplateSync:
    """What a sync did: templates kept, removed (gone at Meta), left out (unreadable),
    and whether Meta's listing was complete."""

    synced: int
    removed: int
    skipped: int
    complete: bool
    stale: bool = False  # a newer sync had already written; this one changed nothing

    def summary(self) -> str:
        """In plain words, for the channel page."""
        if self.stale:
            return "A newer sync finished first; the list below is its result."
        noun = "template" if self.synced == 1 else "templates"
        said = f"{self.synced} WhatsApp {noun} synced from Meta"
        if self.removed:
            said += f", {self.removed} no longer at Meta removed"
        if self.skipped:
            said += f"; {self.skipped} could not be read and were left out"
        if not self.complete:
            said += "; Meta's list did not end, so none was removed"
        return said + "."


def whatsapp_templates_sync(*, channel: Channel) -> TemplateSync:
    """Read the channel's templates from Meta and make our copy match.

    Raises ProviderError (Meta refused or could not be reached), after recording it on
    the channel for its page; the templates already stored stay as they were."""
    adapter = channel_adapter(channel.kind)
    if not adapter.approved_templates:
        raise ValueError(f"{channel.kind} channels have no provider templates")
    started = timezone.now()
    try:
        listing = adapter.fetch_templates(credentials=adapter.credentials(channel.credentials_data))
    except ProviderError as error:
        Channel.objects.filter(pk=channel.pk).update(templates_sync_error=error.message[:500])
        raise
    with transaction.atomic():
        # One sync writes a channel's templates at a time; one that asked Meta before
        # the last written sync did drops its older listing.
        locked = Channel.objects.select_for_update().filter(pk=channel.pk).first()
        if locked is None:  # the channel was removed meanwhile
            return TemplateSync(0, 0, 0, listing.complete, stale=True)
        if locked.templates_synced_at and locked.templates_synced_at > started:
            return TemplateSync(0, 0, 0, listing.complete, stale=True)
        now = timezone.now()
        _upsert(channel, listing.templates, now)
        removed = 0
        if listing.complete:
            removed, _ = WhatsAppTemplate.objects.filter(
                channel=channel, synced_at__lt=now
            ).delete()
        # As of when Meta was asked: a sync that asked earlier and writes later is older.
        Channel.objects.filter(pk=channel.pk).update(
            templates_synced_at=started, templates_sync_error=""
        )
    result = TemplateSync(
        synced=len(listing.templates),
        removed=removed,
        skipped=len(listing.skipped),
        complete=listing.complete,
    )
    logger.info("channel %s: %s", channel.pk, result.summary())
    return result


def _upsert(channel: Channel, found, now: datetime) -> None:
    rows = [
        WhatsAppTemplate(
            channel=channel,
            meta_id=template.id,
            name=template.name,
            language=template.language,
            status=template.status,
            category=template.category,
            parameter_format=template.parameter_format,
            components=template.components,
            status_reason=template.rejected_reason,
            synced_at=now,
        )
        for template in found
    ]
    # ON CONFLICT (channel, name, language) DO UPDATE: last_used_at is ours and stays.
    WhatsAppTemplate.objects.bulk_create(
        rows,
        batch_size=_BATCH,
        update_conflicts=True,
        unique_fields=["channel", "name", "language"],
        update_fields=[
            "meta_id",
            "status",
            "category",
            "parameter_format",
            "components",
            "status_reason",
            "synced_at",
        ],
    )


def whatsapp_template_status_apply(*, channel: Channel, update: TemplateStatusUpdate) -> bool:
    """Meta's ``message_template_status_update``: the template's new status, on every
    channel of the account that has it (numbers of one Business Account share their
    templates; Meta's template ids are its own, unique across accounts). Returns
    whether a stored template had it; when none did (a template made since the last
    sync), the caller syncs the channel."""
    same_account = WhatsAppTemplate.objects.filter(
        channel__kind=channel.kind,
        channel__workspace__account_id=Subquery(
            Workspace.objects.filter(pk=channel.workspace_id).values("account_id")[:1]
        ),
        meta_id=update.template_id,
    )
    if update.status == "DELETED":
        deleted, _ = same_account.delete()
        return bool(deleted)
    return bool(same_account.update(status=update.status, status_reason=update.reason))


def whatsapp_template_message(
    *, template: WhatsAppTemplate, values: dict[str, str]
) -> TemplateMessage:
    """The message to send ``template`` with ``values`` (keyed as
    ``integrations.whatsapp.templates.template_variables`` names them).
    TemplateValuesInvalid, in words for the agent, when a value is missing or unusable;
    ValueError when the template is not approved (a paused or rejected one is never
    offered). To send it through the relay, store an outbound Message with
    ``type="template"`` and ``data["template"] = message.as_data()`` (its ``text`` the
    preview, ``render(...).as_text()``, for the log)."""
    if not template.sendable:
        raise ValueError(f"template {template.pk} is {template.status}, not approved")
    definition = whatsapp_template_definition(template)
    problems = templates.values_problems(definition, values)
    if problems:
        raise templates.TemplateValuesInvalid("; ".join(problems) + ".")
    return TemplateMessage(
        name=template.name,
        language=template.language,
        parameter_format=template.parameter_format,
        components=tuple(template.components),
        values=tuple(sorted((key, str(value)) for key, value in values.items())),
    )


def whatsapp_template_definition(template: WhatsAppTemplate) -> templates.TemplateDefinition:
    return templates.TemplateDefinition(
        parameter_format=template.parameter_format, components=list(template.components)
    )


def whatsapp_template_used(*, template: WhatsAppTemplate) -> None:
    """Note that an agent sent it (the panel lists recently used templates first)."""
    WhatsAppTemplate.objects.filter(pk=template.pk).update(last_used_at=timezone.now())
