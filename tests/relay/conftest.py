"""Fixtures of the relay's tests: the stand-ins of relay_doubles.py installed in the
relay, and the channel tests' workspace, channel and customer."""

import os
import uuid

import pytest
import redis

from relay import content, dispatch, notes, outbound, wakeup
from relay import inbox as workspace_inbox
from relay.lease import keeper
from tests.channels.conftest import channel, contact, conversation, workspace  # noqa: F401

from .relay_doubles import FakeChannel, FakeInbox


@pytest.fixture(autouse=True)
def _no_leftover_leases():
    """The lease keeper is one per process: what a test left in it goes with the test."""
    yield
    keeper.forget()


@pytest.fixture
def inbox(monkeypatch):
    fake = FakeInbox()
    monkeypatch.setattr(workspace_inbox, "inbox_adapter", lambda provider: fake)
    return fake


@pytest.fixture
def phone(monkeypatch):
    fake = FakeChannel()
    for module in (outbound, notes, content):
        monkeypatch.setattr(module, "channel_adapter", lambda kind: fake)
    return fake


@pytest.fixture
def wake_set(monkeypatch, settings):
    """This test's own wake-up set in the suite's Redis (CI sets REDIS_URL)."""
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("REDIS_URL is not set (CI always sets it)")
    settings.REDIS_URL = settings.CELERY_BROKER_URL = redis_url
    key = f"octopods:test:wake:{uuid.uuid4().hex}"
    monkeypatch.setattr(wakeup, "WAKE_KEY", key)
    monkeypatch.setattr(dispatch, "WAKE_KEY", key)
    connection = redis.Redis.from_url(redis_url)
    yield connection, key
    connection.delete(key)
