"""Register Octopods' HubSpot custom channel, once per HubSpot app (PROVIDERS.md §2.2)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations.base import ProviderError
from integrations.hubspot import client
from integrations.hubspot.adapter import custom_channel_definition


class Command(BaseCommand):
    help = (
        "Create the HubSpot app's custom channel with the developer API key and print its "
        "id for HUBSPOT_CUSTOM_CHANNEL_ID; with --update, send the current definition "
        "(name, capabilities, webhook URL) to the channel in HUBSPOT_CUSTOM_CHANNEL_ID."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--update",
            action="store_true",
            help="change the existing channel instead of creating one",
        )

    def handle(self, *args, update, **options):
        missing = [
            name
            for name in ("HUBSPOT_APP_ID", "HUBSPOT_DEVELOPER_API_KEY")
            if not getattr(settings, name)
        ]
        if missing:
            raise CommandError(
                f"Set {' and '.join(missing)} first: the app's id and its developer "
                "account's API key are in HubSpot's developer account, under Apps and Keys."
            )
        definition = custom_channel_definition()
        channel_id = settings.HUBSPOT_CUSTOM_CHANNEL_ID
        if update and not channel_id:
            raise CommandError(
                "--update changes the channel named in HUBSPOT_CUSTOM_CHANNEL_ID, which is "
                "not set. Run the command without --update to create the channel."
            )
        if not update and channel_id:
            # A second channel would split the app's channel accounts between two ids.
            raise CommandError(
                f"HUBSPOT_CUSTOM_CHANNEL_ID is already set ({channel_id}). Use --update to "
                "change that channel, or unset it to create a new one."
            )
        try:
            if update:
                channel = client.update_custom_channel(channel_id, definition)
            else:
                channel = client.create_custom_channel(definition)
        except ProviderError as error:
            raise CommandError(error.message) from None
        if update:
            self.stdout.write(self.style.SUCCESS(f"HubSpot custom channel {channel_id} updated."))
            return
        if not channel.get("id"):
            raise CommandError("HubSpot created the channel but did not say its id.")
        self.stdout.write(self.style.SUCCESS(f"HubSpot custom channel {channel['id']} created."))
        self.stdout.write(f"Set HUBSPOT_CUSTOM_CHANNEL_ID={channel['id']}")
        self.stdout.write(f"HubSpot will send agents' replies to {definition['webhookUrl']}")
