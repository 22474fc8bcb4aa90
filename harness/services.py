"""PostgreSQL and Redis servers of a test's or a harness run's own, on free loopback
ports, so they can be killed, restarted and flushed without touching anything else.

Each is a real server process from the machine's packages (Debian's
``postgresql`` and ``redis-server``); nothing here is a stand-in.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path


class ServiceError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, *, timeout: float, what: str):
    """Poll ``condition`` until it is truthy; raise ServiceError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise ServiceError(f"timed out after {timeout} s waiting for {what}")
        pause.wait(0.05)


def _pg_bindir() -> Path:
    if found := os.environ.get("PG_BINDIR"):
        return Path(found)
    if pg_config := shutil.which("pg_config"):
        with suppress(subprocess.CalledProcessError):
            bindir = subprocess.run(  # noqa: S603 - the machine's own pg_config
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            ).stdout.strip()
            if (Path(bindir) / "initdb").exists():
                return Path(bindir)
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parts[-3]),
    )
    if candidates:
        return Path(candidates[-1]).parent
    if initdb := shutil.which("initdb"):
        return Path(initdb).parent
    raise ServiceError("no PostgreSQL server binaries found (set PG_BINDIR)")


class PostgresServer:
    """A PostgreSQL cluster in a temporary directory, listening on 127.0.0.1:port with
    trust authentication for user ``postgres``. As root, the server runs as the
    ``postgres`` system user (PostgreSQL refuses to run as root)."""

    def __init__(self, *, database: str = "octopods"):
        self.bindir = _pg_bindir()
        self.port = free_port()
        self.database = database
        self.root = Path(tempfile.mkdtemp(prefix="octopods-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(  # noqa: S603 - the machine's own PostgreSQL binaries
            command, capture_output=True, text=True, check=check, cwd=self.root
        )

    def start(self) -> "PostgresServer":
        if not self.data.exists():
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
        if not self.accepts():
            self._pg_ctl_start()
        created = self._run(
            "createdb",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            self.database,
            check=False,
        )
        if created.returncode != 0 and "already exists" not in created.stderr:
            raise ServiceError(f"createdb {self.database} failed: {created.stderr.strip()}")
        return self

    def _psql_args(self, database: str) -> list[str]:
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database]

    def _pg_ctl_start(self):
        # Commits are durable as in production (synchronous_commit stays on): a server
        # killed in immediate mode loses nothing it acknowledged. fsync and full-page
        # writes are off for speed, which is safe here: the server may crash, the
        # machine does not.
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def accepts(self) -> bool:
        return (
            self._run(
                "pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port), check=False
            ).returncode
            == 0
        )

    def stop(self, *, mode: str = "fast"):
        """Stop the server; ``immediate`` is a crash as far as clients can tell: every
        connection is cut and the next start replays the WAL."""
        if self.data.exists():
            self._run(
                "pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False
            )

    def restart(self, *, mode: str = "immediate"):
        self.stop(mode=mode)
        self._pg_ctl_start()

    def destroy(self):
        self.stop(mode="immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class RedisServer:
    """A redis-server of its own, which can be killed and started again."""

    def __init__(self):
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceError("redis-server is not installed")
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(  # noqa: S603 - the machine's own redis-server
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, timeout=10, what="redis-server to start")
        return self

    def answers(self) -> bool:
        import redis

        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def flushall(self):
        import redis

        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        try:
            client.flushall()
        finally:
            client.close()

    def stop(self):
        """SIGKILL: nothing gets written or handed over."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
