from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "channels"
    label = "octopods_channels"
    verbose_name = "Channels"
