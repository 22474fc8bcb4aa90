import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from celery.exceptions import AlwaysEagerIgnored
from django.conf import settings

from octopods import celery_app

ROOT = Path(__file__).resolve().parent.parent


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
    # A relay task never outlives its hold on the contact it relays.
    assert celery_app.conf.task_time_limit < settings.RELAY_LEASE_SECONDS
    assert celery_app.conf.task_soft_time_limit < celery_app.conf.task_time_limit


@pytest.mark.django_db  # loading the task modules runs Django's checks, which query
def test_the_beat_schedule_is_static_and_names_registered_tasks():
    assert isinstance(settings.CELERY_BEAT_SCHEDULE, dict)
    celery_app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in celery_app.tasks
    assert "django_celery_beat" not in settings.INSTALLED_APPS


def test_a_worker_runs_tasks_sent_through_redis():
    """The app, its settings and a real worker talk through the Redis broker."""
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("REDIS_URL is not set (CI always sets it)")
    queue = f"probe-{uuid.uuid4()}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "octopods.settings.dev",
        "ENV_FILE": os.devnull,
        "CELERY_BROKER_URL": redis_url,
        "DATABASE_URL": "sqlite:///:memory:",
    }
    worker = subprocess.Popen(  # noqa: S603 - our own worker
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "octopods",
            "worker",
            "-P",
            "solo",
            "-Q",
            queue,
            "-I",
            "tests.celery_probe",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # redis-py 8 reads with a 5 s socket timeout by default, shorter than the BLPOP below:
    # a worker slow to start on a busy machine must not fail the read.
    connection = redis.Redis.from_url(redis_url, socket_timeout=60)
    result_key = f"{queue}:result"
    try:
        # send_task always goes through the broker, even with the suite's eager setting.
        with pytest.warns(AlwaysEagerIgnored):
            celery_app.send_task(
                "tests.celery_probe.record", args=[result_key, "done"], queue=queue
            )
        # BLPOP waits on the worker's write itself, bounded at 30 s.
        answer = connection.blpop([result_key], timeout=30)
        assert answer == (result_key.encode(), b"done"), worker.poll()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        connection.delete(queue, result_key)
