"""The relay's tasks and the upkeep's go to queues of their own (octopods/celery.py),
and every place that starts a worker consumes them: docker-compose.yml, the laptop's
scripts/run, the fault harness and bench (harness/stack.py), the reliability tests."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
import yaml
from celery.exceptions import AlwaysEagerIgnored
from django.conf import settings

from harness.services import RedisServer, wait_until
from harness.stack import WORKER_QUEUES
from octopods import celery_app
from octopods.celery import MAINTENANCE_QUEUE, QUEUES, RELAY_QUEUE, TASK_QUEUES

ROOT = Path(__file__).resolve().parent.parent


def queue_of(name: str) -> str:
    return celery_app.amqp.router.route({}, name)["queue"].name


@pytest.mark.django_db  # loading the task modules runs Django's checks, which query
def test_every_task_of_the_product_goes_to_its_queue():
    celery_app.loader.import_default_modules()
    ours = {name for name in celery_app.tasks if not name.startswith(("celery.", "tests."))}
    # A new task is routed on purpose, not by default.
    assert ours == set(TASK_QUEUES)
    assert queue_of("channels.relay_contact") == RELAY_QUEUE
    assert queue_of("channels.answer_button_taps") == RELAY_QUEUE
    for name in (
        "channels.sweep",
        "channels.sync_all_templates",
        "channels.sync_whatsapp_templates",
        "integrations.check_connections",
        "integrations.check_connection",
    ):
        assert queue_of(name) == MAINTENANCE_QUEUE, name
    # Whatever beat sends is upkeep, the sweep included.
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert queue_of(entry["task"]) == MAINTENANCE_QUEUE


def test_an_unrouted_task_goes_where_relay_workers_listen():
    assert queue_of("tests.celery_probe.record") == RELAY_QUEUE


def test_the_laptop_and_the_harness_workers_consume_every_queue():
    assert ",".join(QUEUES) == WORKER_QUEUES
    assert f"-Q {','.join(QUEUES)}" in (ROOT / "scripts" / "run").read_text()


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_every_long_running_service_has_a_command_and_a_health_check():
    services = _compose()
    long_running = {name for name, s in services.items() if s.get("restart") != "no"}
    assert {"web", "worker", "maintenance", "beat", "postgres", "redis"} <= long_running
    for name in long_running:
        service = services[name]
        assert service.get("healthcheck", {}).get("test"), name
        # Ours say what they run; PostgreSQL's image runs its server.
        if service.get("image", "").startswith("octopods") or name == "redis":
            assert service.get("command"), name


def test_compose_workers_consume_every_queue_and_name_them():
    consumed = set()
    for name, service in _compose().items():
        command = service.get("command") or []
        if command[:4] != ["celery", "-A", "octopods", "worker"]:
            continue
        assert "-Q" in command, f"{name} names no queue"
        consumed |= set(command[command.index("-Q") + 1].split(","))
    assert consumed == set(QUEUES)


def test_a_maintenance_worker_takes_no_relay_task(tmp_path):
    """A real worker started with -Q maintenance, on a Redis of the test's own: it runs
    what is sent to its queue and leaves a relay task in the relay queue. It touches
    its heartbeat file on start and again afterwards."""
    if not (os.environ.get("REDIS_URL") or os.environ.get("CI")):
        pytest.skip("REDIS_URL is not set (CI always sets it)")
    server = RedisServer().start()
    heartbeat = tmp_path / "heartbeat"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "octopods.settings.dev",
        "ENV_FILE": os.devnull,
        "REDIS_URL": server.url,
        "CELERY_BROKER_URL": server.url,
        "DATABASE_URL": "sqlite:///:memory:",
        "RELAY_THREADS": "0",
        "HEARTBEAT_FILE": str(heartbeat),
    }
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(  # noqa: S603 - our own worker
            [
                str(Path(sys.executable).with_name("celery")),
                "-A",
                "octopods",
                "worker",
                "-P",
                "threads",
                "-Q",
                MAINTENANCE_QUEUE,
                "-I",
                "tests.celery_probe",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    client = redis.Redis.from_url(server.url, socket_timeout=90)
    result_key = f"probe-{uuid.uuid4()}"
    try:
        wait_until(heartbeat.exists, timeout=60, what="the worker's first heartbeat")
        first_beat = heartbeat.stat().st_mtime_ns
        # send_task always goes through the broker, even with the suite's eager setting.
        with (
            celery_app.connection_for_write(server.url) as connection,
            pytest.warns(AlwaysEagerIgnored),
        ):
            celery_app.send_task("channels.relay_contact", args=[1], connection=connection)
            celery_app.send_task(
                "tests.celery_probe.record",
                args=[result_key, "done"],
                queue=MAINTENANCE_QUEUE,
                connection=connection,
            )
        # Sent after the relay task: once it has run, the worker has had every chance.
        answer = client.blpop([result_key], timeout=30)
        assert answer == (result_key.encode(), b"done"), log.read_text(errors="replace")
        assert client.llen(RELAY_QUEUE) == 1
        assert client.llen(MAINTENANCE_QUEUE) == 0
        wait_until(
            lambda: heartbeat.stat().st_mtime_ns != first_beat,
            timeout=60,
            what="the worker's next heartbeat",
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        client.close()
        server.stop()


def test_beat_sends_the_sweep_to_the_maintenance_queue_and_beats_its_heart(tmp_path):
    """Real beat on a Redis of the test's own: the sweep (every 15 s) lands in the
    maintenance queue, and beat's loop touches its heartbeat file."""
    if not (os.environ.get("REDIS_URL") or os.environ.get("CI")):
        pytest.skip("REDIS_URL is not set (CI always sets it)")
    server = RedisServer().start()
    heartbeat = tmp_path / "heartbeat"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "octopods.settings.dev",
        "ENV_FILE": os.devnull,
        "REDIS_URL": server.url,
        "CELERY_BROKER_URL": server.url,
        "DATABASE_URL": "sqlite:///:memory:",
        "HEARTBEAT_FILE": str(heartbeat),
    }
    log = tmp_path / "beat.log"
    with log.open("wb") as output:
        beat = subprocess.Popen(  # noqa: S603 - our own beat
            [
                str(Path(sys.executable).with_name("celery")),
                "-A",
                "octopods",
                "beat",
                "--schedule",
                str(tmp_path / "celerybeat-schedule"),
                "-l",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    client = redis.Redis.from_url(server.url, socket_timeout=90)
    try:
        wait_until(heartbeat.exists, timeout=60, what="beat's first heartbeat")
        # BRPOP waits on beat's publish itself, bounded.
        sent = client.brpop([MAINTENANCE_QUEUE], timeout=60)
        assert sent is not None, log.read_text(errors="replace")
        assert b'"channels.sweep"' in sent[1]
        assert client.llen(RELAY_QUEUE) == 0
    finally:
        beat.terminate()
        beat.wait(timeout=30)
        client.close()
        server.stop()
