"""Facebook Messenger (Meta Graph): the channel side for Facebook Pages (PROVIDERS.md §6)."""
