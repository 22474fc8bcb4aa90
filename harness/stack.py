"""Octopods as an operator runs it, on loopback, from this checkout: a PostgreSQL and a
Redis of its own, gunicorn serving Octopods, a second gunicorn serving the sandbox's
providers (so a slow provider never holds up our webhooks), two Celery workers on the
thread pool and beat. Every process can be killed and started again; a supervisor
starts again whatever exits by itself, as compose's ``restart:`` does, and counts it.
"""

import os
import signal
import subprocess
import sys
import tempfile
import threading
from contextlib import suppress
from pathlib import Path

import requests

from integrations.registry import channel_apis

from .services import PostgresServer, RedisServer, ServiceError, free_port, wait_until

# The queues of octopods/celery.py (QUEUES); tests/test_queues.py keeps them equal.
WORKER_QUEUES = "relay,maintenance"

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
INTERCOM_WORKSPACE = "sbx-acme"


class Process:
    """One supervised process: started with its own process group, so a kill takes
    its children too."""

    def __init__(self, name: str, command: list[str], env: dict, log: Path):
        self.name, self.command, self.env, self.log = name, command, env, log
        self.popen: subprocess.Popen | None = None
        self.expected_exit = False
        # Held while the harness kills or starts it, and while the supervisor looks.
        self.lock = threading.RLock()

    def start(self):
        with self.lock, open(self.log, "ab") as out:
            self.popen = subprocess.Popen(  # noqa: S603 - our own programs
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.expected_exit = False

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def exited_by_itself(self) -> bool:
        with self.lock:
            return self.popen is not None and not self.alive() and not self.expected_exit

    def kill(self, sig=signal.SIGKILL):
        with self.lock:
            self.expected_exit = True
            if self.popen is None:
                return
            with suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)
            with suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=20)
            if self.popen.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)

    def restart(self):
        with self.lock:
            self.kill()
            self.start()


class Stack:
    def __init__(self, *, lease_seconds: int, workers: int = 2, threads: int = 8, log=print):
        self.say = log
        self.root = Path(tempfile.mkdtemp(prefix="octopods-faults-"))
        self.postgres = PostgresServer(database="octopods")
        self.redis = RedisServer()
        self.web_port, self.provider_port = free_port(), free_port()
        self.web_url = f"http://127.0.0.1:{self.web_port}"
        # Another host name for the providers: their cookies (the OAuth consent page's
        # CSRF and session) must not mix with ours on the same address.
        self.provider_url = f"http://localhost:{self.provider_port}"
        sandbox = f"{self.provider_url}/sandbox"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))},
            "DJANGO_SETTINGS_MODULE": "octopods.settings.dev",
            "ENV_FILE": os.devnull,
            "DEBUG": "false",
            "SECRET_KEY": "fault-harness-secret-key-not-for-production-use-0123456789",
            "DATABASE_URL": self.postgres.url,
            "REDIS_URL": self.redis.url,
            "CELERY_BROKER_URL": self.redis.url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PUBLIC_BASE_URL": self.web_url,
            "RELAY_LEASE_SECONDS": str(lease_seconds),
            "RELAY_IN_PROCESS": "false",
            # Each worker relays on this many threads of its own (relay/dispatch.py).
            "RELAY_THREADS": str(threads),
            "MEDIA_ROOT": str(self.root / "media"),
            "INTERCOM_AUTHORIZE_URL": f"{sandbox}/intercom/oauth",
            "INTERCOM_API_URL": f"{sandbox}/intercom/api",
            "HUBSPOT_AUTHORIZE_URL": f"{sandbox}/hubspot/oauth/authorize",
            "HUBSPOT_API_URL": f"{sandbox}/hubspot/api",
            # Every channel provider's API (TELEGRAM_API_URL, ...) at the sandbox.
            **{api.setting: f"{sandbox}/{api.sandbox_path}" for api in channel_apis()},
            "OAUTHLIB_INSECURE_TRANSPORT": "1",
            "PYTHONUNBUFFERED": "1",
        }
        if os.environ.get("PYTHONPATH"):
            self.env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        python = str(BIN / "python")
        gunicorn = [python, "-m", "gunicorn", "octopods.wsgi", "--access-logfile", "-"]
        celery = [python, "-m", "celery", "-A", "octopods"]
        self.web = Process(
            "web",
            [*gunicorn, "--bind", f"127.0.0.1:{self.web_port}", "--workers", "3"],
            self.env,
            self.root / "web.log",
        )
        self.providers = Process(
            "providers",
            [
                *gunicorn,
                "--bind",
                f"127.0.0.1:{self.provider_port}",
                "--worker-class",
                "gthread",
                "--workers",
                "1",
                "--threads",
                "32",
                "--timeout",
                "120",
            ],
            self.env,
            self.root / "providers.log",
        )
        self.workers = [
            Process(
                f"worker{n}",
                [
                    *celery,
                    "worker",
                    "--pool",
                    "threads",
                    "--concurrency",
                    str(threads),
                    # Every queue (octopods/celery.py), so the stack needs no
                    # worker per queue: the relay's and the sweep's.
                    "-Q",
                    WORKER_QUEUES,
                    "--hostname",
                    f"worker{n}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "-l",
                    "info",
                ],
                self.env,
                self.root / f"worker{n}.log",
            )
            for n in range(1, workers + 1)
        ]
        self.beat = Process(
            "beat",
            [*celery, "beat", "-l", "info", "--schedule", str(self.root / "celerybeat-schedule")],
            self.env,
            self.root / "beat.log",
        )
        self.processes = [self.web, self.providers, *self.workers, self.beat]
        self.unexpected_exits: list[str] = []
        self._supervising = threading.Event()
        self._supervisor: threading.Thread | None = None

    # --- life cycle ---------------------------------------------------------------------

    def start(self):
        self.say(f"stack in {self.root}")
        self.postgres.start()
        self.redis.start()
        self.manage("migrate", "--noinput", "-v", "0")
        for process in self.processes:
            process.start()
        for url in (self.web_url, self.provider_url + "/sandbox/"):
            wait_until(lambda url=url: self._answers(url), timeout=60, what=f"{url} to answer")
        self._supervising.set()
        self._supervisor = threading.Thread(target=self._supervise, daemon=True)
        self._supervisor.start()

    def manage(self, *args: str):
        subprocess.run(  # noqa: S603 - our own manage.py
            [str(BIN / "python"), "manage.py", *args],
            cwd=ROOT,
            env={**self.env, "DB_STATEMENT_TIMEOUT": "0"},
            check=True,
        )

    @staticmethod
    def _answers(url: str) -> bool:
        try:
            return requests.get(url, timeout=2, allow_redirects=False).status_code < 500
        except requests.RequestException:
            return False

    def _supervise(self):
        pause = threading.Event()
        while self._supervising.is_set():
            for process in self.processes:
                with process.lock:
                    if process.exited_by_itself():
                        code = process.popen.returncode
                        self.unexpected_exits.append(f"{process.name} (exit {code})")
                        self.say(f"  ! {process.name} exited by itself ({code}); starting it")
                        process.start()
            pause.wait(0.5)

    def stop(self, *, keep: bool = False):
        self._supervising.clear()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
        for process in self.processes:
            process.kill(signal.SIGTERM)
        self.redis.stop()
        if keep:
            self.postgres.stop()
            self.say(f"kept: {self.root} (logs) and {self.postgres.root} (database)")
        else:
            self.postgres.destroy()
            import shutil

            shutil.rmtree(self.root, ignore_errors=True)

    # --- faults -----------------------------------------------------------------------

    def restart(self, process: Process):
        process.restart()

    def redis_down(self):
        self.redis.stop()

    def redis_up(self):
        self.redis.start()


__all__ = ["INTERCOM_WORKSPACE", "ServiceError", "Stack"]
