"""Local stand-ins for the providers' OAuth and identity APIs (development and tests only).

Mounted under ``/sandbox/`` only when ``settings.SANDBOX_ENABLED``. It imports nothing of
the product but ``django.conf.settings`` and keeps no tables: codes and tokens are signed
values, revocations and used codes live in the cache.
"""
