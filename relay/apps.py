import os

from django.apps import AppConfig
from django.conf import settings
from django.core.signals import request_started
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV


class RelayConfig(AppConfig):
    name = "relay"
    verbose_name = "Relay"

    def ready(self):
        # Without a broker the relay is a thread of the web process (relay/wakeup.py).
        # It must run whenever the server does, not only once a webhook arrives: messages
        # stored before a restart, and retries that came due, wait for its sweep.
        # Management commands, migrations, Celery and the tests (RELAY_IN_PROCESS off)
        # serve no request and never start it.
        if not settings.RELAY_IN_PROCESS:
            return
        request_started.connect(_start_relay, dispatch_uid="relay.start", weak=False)
        if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
            # runserver's serving process (the reloader's child): start with the server
            # rather than at the first page anyone opens.
            _start_relay()


def _start_relay(**kwargs):
    from .wakeup import waker

    # Starts the thread when this process has none (or lost it to a fork); otherwise
    # a lock and a pid check.
    waker.wake(())
