# The Celery app must be loaded with Django so that ``.delay()`` from Django code
# uses our broker settings instead of Celery's default AMQP on localhost.
from .celery import app as celery_app

__all__ = ("celery_app",)
