from ..channel import ChannelAdapter
from . import webhooks
from .credentials import Credentials


class TwilioAdapter(ChannelAdapter):
    kind = "sms"
    label = "SMS"
    Credentials = Credentials
    webhooks = webhooks
