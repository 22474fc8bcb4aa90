"""Send failed messages through the relay again, by id or by time range."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from channels.models import Message, MessageStatus
from channels.services import messages_requeue


class Command(BaseCommand):
    help = (
        "Re-queue failed messages (inbound to the inbox, outbound to the customer): "
        "by --ids, or by --since/--until (ISO 8601), optionally for one --channel."
    )

    def add_arguments(self, parser):
        parser.add_argument("--ids", nargs="+", type=int, default=[], help="message ids")
        parser.add_argument("--since", help="failed messages created at or after this time")
        parser.add_argument("--until", help="… and before this time")
        parser.add_argument("--channel", type=int, help="only this channel's messages")
        parser.add_argument(
            "--dry-run", action="store_true", help="say how many would go, change nothing"
        )

    def handle(self, *args, ids, since, until, channel, dry_run, **options):
        if not ids and not since:
            raise CommandError("Name messages with --ids, or a time range with --since.")
        messages = Message.objects.filter(status=MessageStatus.FAILED)
        if ids:
            messages = messages.filter(pk__in=ids)
        for bound, lookup in ((since, "created_at__gte"), (until, "created_at__lt")):
            if bound:
                moment = parse_datetime(bound)
                if moment is None or moment.tzinfo is None:
                    raise CommandError(
                        f"{bound!r} is not an ISO 8601 time with a zone, like 2026-11-30T09:00:00Z."
                    )
                messages = messages.filter(**{lookup: moment})
        if channel:
            messages = messages.filter(channel_id=channel)
        if dry_run:
            self.stdout.write(f"{messages.count()} failed messages would be re-queued.")
            return
        count = messages_requeue(messages=messages)
        self.stdout.write(self.style.SUCCESS(f"{count} failed messages re-queued."))
