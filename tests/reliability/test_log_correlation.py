"""Following one message through the logs of real processes: gunicorn serving the
webhook, a Celery worker relaying it, and the sandbox's Intercom (another gunicorn) as
the inbox, each with a PostgreSQL and a Redis of the stack's own (harness/stack.py).
The processes log JSON (LOG_FORMAT=json) to their own files; the test reads them."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from harness.services import ServiceError, wait_until
from harness.stack import BIN, ROOT, Stack

SECRET = "log-test-secret_token"
WAIT = 120  # seconds: five Python processes start on a busy machine

SET_UP = f"""
from accounts.models import Account
from channels.models import Channel
from sandbox import tokens
from workspaces.models import InboxAdmin, Provider, Workspace

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
channel.credentials_data = {{
    "bot_token": "7000000001:AAHsandbox-acme-support-bot-token01",
    "secret_token": "{SECRET}",
    "bot_id": "7000000001",
    "bot_username": "acme_support_bot",
}}
channel.save()
print(channel.webhook_key)
"""


def _services_missing() -> str:
    from harness.services import _pg_bindir

    try:
        _pg_bindir()
    except ServiceError:
        return "PostgreSQL's server binaries"
    if shutil.which("redis-server") is None:
        return "redis-server"
    return ""


@pytest.fixture(scope="module")
def stack():
    if missing := _services_missing():
        if os.environ.get("CI"):
            pytest.fail(f"the log correlation test needs {missing}")
        pytest.skip(f"the log correlation test needs {missing}")
    stack = Stack(lease_seconds=30, workers=1, threads=2, log=lambda *args: None)
    stack.env["LOG_FORMAT"] = "json"  # as in production
    # One web process is enough to follow one message; beat is not needed (the
    # webhook's own wake-up is what is followed).
    workers_at = stack.web.command.index("--workers") + 1
    stack.web.command[workers_at] = "1"
    stack.processes.remove(stack.beat)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def json_lines(log: Path) -> list[dict]:
    """The JSON objects a process logged (its other output — gunicorn's and Celery's
    own banners — is not ours to read)."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                found.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return found


def first(log: Path, **wanted) -> dict | None:
    """The first line whose fields hold ``wanted`` (``message`` as a substring)."""
    for line in json_lines(log):
        if all(
            value in line.get(name, "") if name == "message" else line.get(name) == value
            for name, value in wanted.items()
        ):
            return line
    return None


def test_one_correlation_id_from_the_webhook_to_the_inbox_call(stack):
    key = subprocess.run(  # noqa: S603 - our own manage.py
        [str(BIN / "python"), "manage.py", "shell", "-c", SET_UP],
        cwd=ROOT,
        env={**stack.env, "DB_STATEMENT_TIMEOUT": "0"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    update = {
        "update_id": 900001,
        "message": {
            "message_id": 1001,
            "from": {"id": 555000111, "is_bot": False, "first_name": "Jane"},
            "chat": {"id": 555000111, "type": "private", "first_name": "Jane"},
            "date": 1718000000,
            "text": "hello from the logs test",
        },
    }
    response = requests.post(
        f"{stack.web_url}/hooks/telegram/{key}/",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        timeout=30,
    )
    assert response.status_code == 200

    web_log, worker_log = stack.web.log, stack.workers[0].log
    stored = wait_until(
        lambda: first(web_log, logger="channels.views", message="events stored"),
        timeout=WAIT,
        what="the webhook's log line",
    )
    correlation_id = stored["correlation_id"]
    assert len(correlation_id) == 16
    assert stored["kind"] == "telegram"

    relayed = wait_until(
        lambda: first(
            worker_log,
            logger="relay.inbound",
            message="relayed to the inbox",
            correlation_id=correlation_id,
        ),
        timeout=WAIT,
        what="the worker's line for the message",
    )
    call = first(
        worker_log,
        logger="integrations.http",
        message="/sandbox/intercom/api/conversations",
        correlation_id=correlation_id,
    )
    assert call is not None, "the inbox call logged under the webhook's id"
    assert call["status"] == 200
    assert relayed["level"] == "INFO"
    for line in (stored, relayed, call):
        assert {"time", "level", "logger", "message"} <= set(line)

    # And the webhook's key is nowhere in the web process's output: not in our lines,
    # not in gunicorn's access line for the same request.
    web_output = web_log.read_text(errors="replace")
    assert key not in web_output
    assert "/hooks/telegram/********/" in web_output
