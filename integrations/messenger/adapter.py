from ..channel import ChannelAdapter
from . import webhooks
from .credentials import Credentials


class MessengerAdapter(ChannelAdapter):
    kind = "messenger"
    label = "Messenger"
    Credentials = Credentials
    webhooks = webhooks
