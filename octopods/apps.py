from django.apps import AppConfig


class OctopodsConfig(AppConfig):
    name = "octopods"

    def ready(self):
        # Web (runserver, gunicorn), Celery and management commands all set Django up,
        # so every process masks webhook secrets in its logs from here on.
        from .log_masking import install

        install()

        # Every record carries the correlation id of what it was logged for.
        from .logs import install as correlate

        correlate()

        # Error reports, when SENTRY_DSN is set; the same processes report.
        from .errors import sentry_init_from_settings

        sentry_init_from_settings()
