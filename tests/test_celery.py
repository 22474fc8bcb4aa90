from django.conf import settings

from octopods import celery_app


def test_the_app_is_configured_from_django_settings():
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.result_serializer == "json"


def test_the_visibility_timeout_outlasts_any_task():
    visibility = celery_app.conf.broker_transport_options["visibility_timeout"]
    assert visibility > celery_app.conf.task_time_limit
    assert celery_app.conf.task_soft_time_limit < celery_app.conf.task_time_limit


def test_the_beat_schedule_is_static():
    assert isinstance(settings.CELERY_BEAT_SCHEDULE, dict)
    assert "django_celery_beat" not in settings.INSTALLED_APPS
