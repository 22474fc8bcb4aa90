"""Fixtures of the relay's tests: the stand-ins of relay_doubles.py installed in the
relay, and the channel tests' workspace, channel and customer."""

import pytest

from relay import content, notes, outbound
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
