"""Telegram Bot API channel: a bot customers message in private chats."""
