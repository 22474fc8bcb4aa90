"""Telegram's stand-in: the Bot API (api.py, urls.py), its fake bots (directory.py), and
a Telegram chat on the customer phone (phone.py)."""
