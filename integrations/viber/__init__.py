"""Viber: a bot on Viber's REST bot API (docs/channels/viber.md)."""
