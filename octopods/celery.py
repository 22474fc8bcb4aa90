"""The Celery application.

PostgreSQL is the record of what still has to happen; Celery and Redis only carry
wake-ups. Settings live in Django settings under the ``CELERY_`` prefix.
"""

import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "octopods.settings.dev")

app = Celery("octopods")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _use_django_logging(**kwargs):
    # Keep one logging configuration (Django's LOGGING) for web and worker.
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
