"""A task the worker test loads into a real worker with ``-I tests.celery_probe``."""

import redis
from celery import shared_task
from django.conf import settings


@shared_task(name="tests.celery_probe.record")
def record(key: str, value: str) -> None:
    redis.Redis.from_url(settings.CELERY_BROKER_URL).lpush(key, value)
