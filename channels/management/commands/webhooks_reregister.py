"""Point providers at our webhooks again, so channels added before a change to what we
subscribe to (Telegram's allowed_updates gained edited_message) receive it too."""

from django.core.management.base import BaseCommand

from channels.models import Channel
from channels.services import channel_webhook_reregister
from integrations.base import ProviderError
from integrations.registry import CHANNELS


class Command(BaseCommand):
    help = (
        "Register every channel's webhook with its provider again (where the provider's "
        "API registers it, not where it is pasted by hand), optionally for one --kind."
    )

    def add_arguments(self, parser):
        parser.add_argument("--kind", choices=sorted(CHANNELS), help="only this kind")

    def handle(self, *args, kind, **options):
        channels = Channel.objects.order_by("pk")
        if kind:
            channels = channels.filter(kind=kind)
        failed = 0
        for channel in channels:
            try:
                done = channel_webhook_reregister(channel=channel)
            except ProviderError as error:
                failed += 1
                self.stderr.write(f"channel {channel.pk} ({channel.kind}): {error.message}")
                continue
            if done:
                self.stdout.write(f"channel {channel.pk} ({channel.kind}): registered")
        if failed:
            self.stderr.write(f"{failed} channel(s) could not be registered; see above.")
