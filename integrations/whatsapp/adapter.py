from ..channel import ChannelAdapter
from . import webhooks
from .credentials import Credentials


class WhatsAppAdapter(ChannelAdapter):
    kind = "whatsapp"
    label = "WhatsApp"
    Credentials = Credentials
    webhooks = webhooks
