from ..channel import ChannelAdapter
from . import webhooks
from .credentials import Credentials


class TelegramAdapter(ChannelAdapter):
    kind = "telegram"
    label = "Telegram"
    Credentials = Credentials
    webhooks = webhooks
