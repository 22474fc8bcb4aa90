"""Local stand-ins for the providers (development and tests only).

Mounted under ``/sandbox/`` only when ``settings.SANDBOX_ENABLED``. It imports nothing of
the product but ``django.conf.settings``. Intercom's and HubSpot's OAuth keep no tables:
codes and tokens are signed values, revocations and used codes live in the cache. The
channel providers' stand-ins (Telegram, Meta's Graph API, Twilio) keep webhook
registrations and the customer phone's conversations in the sandbox's own models.
"""
