"""A message an agent sends from the inbox app keeps the panel request's correlation id
to the channel's call."""

import logging

import pytest

from channels.models import Direction, Message
from octopods import logs
from relay.engine import relay_contact_once

from .conftest import graph_accepts, wrote
from .test_flow import click, to_preview

pytestmark = pytest.mark.django_db


def test_a_message_sent_from_the_panel_keeps_its_requests_id_to_the_channel_call(
    mocked, workspace, whatsapp, jane_on_whatsapp, caplog
):
    caplog.set_level(logging.INFO)
    wrote(jane_on_whatsapp, hours_ago=1)
    graph_accepts(mocked)
    click(to_preview(whatsapp), "send")
    correlation_id = Message.objects.get(direction=Direction.OUTBOUND).data[logs.CORRELATION_KEY]
    assert len(correlation_id) == 16

    caplog.clear()
    relay_contact_once(jane_on_whatsapp.pk)
    calls = [record for record in caplog.records if record.name == "integrations.http"]
    assert calls, "the relay called WhatsApp"
    assert {call.correlation_id for call in calls} == {correlation_id}
