"""A relay stack of real processes on loopback: the live server (our webhooks and the
sandbox's Intercom), a Redis of the test's own that it may stop and start, and Celery
worker processes it may kill — all on the test's PostgreSQL database.

These tests need PostgreSQL (the workers share the test's database; SQLite in memory
cannot be shared) and redis-server; CI has both and must run them.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from contextlib import suppress
from pathlib import Path

import kombu.pools
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    connections,
)

from accounts.models import Account
from channels.models import Channel
from harness.services import PostgresServer, RedisServer, ServiceError, wait_until
from octopods import celery_app
from octopods.celery import QUEUES
from octopods.settings.base import sandbox_provider_settings
from sandbox import tokens
from workspaces.models import InboxAdmin, Provider, Workspace

ROOT = Path(__file__).resolve().parent.parent.parent
WAIT = 60  # seconds any condition gets before the test fails


def require_real_services():
    missing = []
    if connection.vendor != "postgresql":
        missing.append("PostgreSQL (DATABASE_URL)")
    if shutil.which("redis-server") is None:
        missing.append("redis-server")
    if missing:
        message = "the relay's worker tests need " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def wait_for(condition, *, timeout: float = WAIT, what: str = "condition"):
    """Poll ``condition`` until it is truthy; fail after ``timeout`` seconds."""
    try:
        return wait_until(condition, timeout=timeout, what=what)
    except ServiceError as error:
        pytest.fail(str(error))


SECRET = "relay-test-secret_token"


def telegram_channel() -> Channel:
    account = Account.objects.create(name="Acme Support")
    workspace = Workspace.objects.create(
        account=account,
        provider=Provider.INTERCOM,
        external_id="sbx-acme",
        name="Acme Support",
        access_token=tokens.issue("intercom.token", ws="sbx-acme"),
    )
    InboxAdmin.objects.create(workspace=workspace, external_id="1001", name="Ada Admin")
    channel = Channel(workspace=workspace, kind="telegram", name="Acme bot", identity="7000000001")
    channel.credentials_data = {
        "bot_token": "7000000001:AAHsandbox-acme-support-bot-token01",
        "secret_token": SECRET,
        "bot_id": "7000000001",
        "bot_username": "acme_support_bot",
    }
    channel.save()
    return channel


class Workers:
    """Celery worker processes running the real relay against the test's database."""

    def __init__(self, *, broker: str, base_url: str):
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "octopods.settings.test",
            "ENV_FILE": os.devnull,
            "REDIS_URL": broker,
            "CELERY_BROKER_URL": broker,
            "PUBLIC_BASE_URL": base_url,
            # A killed worker's contacts come back after this, not after two minutes.
            "RELAY_LEASE_SECONDS": "3",
            "RELAY_LEASE_KEEPER": "true",
            # Files the workers store are served by the live server from the same place.
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        }
        self.processes: list[subprocess.Popen] = []
        self.logs: dict[int, Path] = {}

    def start(
        self, *, concurrency: int = 4, include: tuple[str, ...] = (), name: str = ""
    ) -> subprocess.Popen:
        """A worker on the database this process uses now (read at each start, so a
        test may point it elsewhere first). ``name`` is the PostgreSQL
        application_name of its connections; ``include`` more task modules."""
        db = connection.settings_dict
        query = f"?application_name={name}" if name else ""
        env = {
            **self.env,
            # The relay's own threads (relay/dispatch.py), as many as the pool's.
            "RELAY_THREADS": str(concurrency),
            "DATABASE_URL": (
                f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}"
                f":{db['PORT'] or 5432}/{db['NAME']}{query}"
            ),
        }
        log = Path(tempfile.mkstemp(prefix="octopods-worker-", suffix=".log")[1])
        with log.open("wb") as output:
            process = subprocess.Popen(  # noqa: S603 - our own worker
                [
                    str(Path(sys.executable).with_name("celery")),
                    "-A",
                    "octopods",
                    "worker",
                    "--pool",
                    "threads",
                    "--concurrency",
                    str(concurrency),
                    # Every queue: the relay's tasks, the sweep and the probes.
                    "-Q",
                    ",".join(QUEUES),
                    *[arg for module in include for arg in ("-I", module)],
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-l",
                    "warning",
                ],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        self.logs[process.pid] = log
        return process

    def log(self, process: subprocess.Popen, *, lines: int = 40) -> str:
        """The end of what the worker wrote, for a failure message."""
        text = self.logs[process.pid].read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def kill(self, process: subprocess.Popen):
        """SIGKILL, as an OOM killer or a lost machine would: nothing gets to clean up."""
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self):
        for process in self.processes:
            if process.poll() is None:
                self.kill(process)
        for log in self.logs.values():
            log.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def _fault_postgres(django_db_blocker):
    """One PostgreSQL server per test session (per xdist worker), migrated once."""
    server = PostgresServer(database="octopods_faults").start()
    server.migrated = False
    yield server
    server.destroy()


@pytest.fixture
def own_postgres(_fault_postgres, transactional_db):
    """Point this process's database at a PostgreSQL server of the test's own, which
    the test may restart: the test's own queries, the live server's threads and every
    worker started afterwards all use it. Emptied before each test."""
    require_real_services()
    server = _fault_postgres.start()  # running, whatever the last test did to it
    db = connection.settings_dict  # the one dict every thread's connection reads
    saved = {key: db[key] for key in ("HOST", "PORT", "NAME", "USER", "PASSWORD")}
    connections.close_all()
    db.update(HOST="127.0.0.1", PORT=server.port, NAME=server.database, USER="postgres")
    db["PASSWORD"] = ""
    try:
        if server.migrated:
            call_command("flush", interactive=False, verbosity=0)
        else:
            call_command("migrate", interactive=False, verbosity=0)
            connections.close_all()
            server.migrated = True
        yield server
    finally:
        connections.close_all()
        db.update(saved)


def settled(query):
    """``query()`` on this thread's connection, after a database restart: the dead
    connection is noticed (CONN_HEALTH_CHECKS) and replaced, as a request would. None
    while the server does not answer yet."""
    close_old_connections()
    try:
        return query()
    except (OperationalError, InterfaceError):
        close_old_connections()
        return None


@pytest.fixture
def stack(live_server, settings):
    require_real_services()
    # Read before the settings change below: the app loads its configuration from
    # Django's settings the first time it is asked.
    saved = {
        key: celery_app.conf[key]
        for key in ("broker_url", "task_always_eager", "broker_transport_options")
    }
    server = RedisServer().start()
    settings.PUBLIC_BASE_URL = live_server.url
    for name, value in sandbox_provider_settings(live_server.url).items():
        setattr(settings, name, value)
    # This process publishes wake-ups (and sweeps) through the test's Redis.
    settings.CELERY_BROKER_URL = server.url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.update(
        broker_url=server.url,
        task_always_eager=False,
        broker_transport_options={**saved["broker_transport_options"], "socket_connect_timeout": 1},
    )
    _fresh_pools()
    workers = Workers(broker=server.url, base_url=live_server.url)
    try:
        yield Stack(live_server.url, server, workers)
    finally:
        workers.stop_all()
        server.stop()
        celery_app.conf.update(**saved)
        _fresh_pools()


def _fresh_pools():
    """Drop the app's broker connections, so the next publish connects to the broker
    now configured."""
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


class Stack:
    def __init__(self, base_url: str, redis_server: RedisServer, workers: Workers):
        self.base_url = base_url
        self.redis = redis_server
        self.workers = workers

    def sweep(self):
        """What beat does every 15 s: wake every contact with due work."""
        from relay.engine import contacts_due
        from relay.wakeup import publish

        with suppress(Exception):
            publish(contacts_due())
