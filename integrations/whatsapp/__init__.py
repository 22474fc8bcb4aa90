"""WhatsApp Cloud API (Meta Graph): the channel side for WhatsApp numbers (PROVIDERS.md §3)."""
