"""Instagram messaging (Messenger API support for Instagram, Meta Graph): the channel side
for an Instagram professional account linked to a Facebook Page (docs/channels/instagram.md)."""
