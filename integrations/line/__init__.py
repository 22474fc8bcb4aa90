"""LINE Messaging API channel: a LINE Official Account customers chat with one-on-one."""
