"""Prepared queries (octopods/prepared.py): the ORM's SQL compiled once, run with new
values, rows made into model instances with the ORM's own converters."""

import pytest

from channels.models import Channel, Message
from octopods.prepared import Prepared

pytestmark = pytest.mark.django_db


def test_it_gives_what_the_queryset_gives_for_each_value(cast):
    from workspaces.models import Provider, Workspace

    workspace = Workspace.objects.create(
        account=cast.account, provider=Provider.INTERCOM, external_id="w", name="W"
    )
    made = []
    for n in range(3):
        channel = Channel(workspace=workspace, kind="telegram", name=f"Bot {n}", identity=f"{n}")
        channel.credentials_data = {"bot_token": f"{n}:secret"}
        channel.save()
        made.append(channel)
    by_identity = Prepared(
        lambda kind, identity: Channel.objects.filter(kind=kind, identity=identity), str, str
    )
    for channel in made:
        found = by_identity.all("telegram", channel.identity)
        assert [c.pk for c in found] == [channel.pk]
        # Converted as the ORM converts: the credentials decrypted.
        assert found[0].credentials_data == {"bot_token": f"{channel.identity}:secret"}
        assert found[0].workspace_id == workspace.pk
    assert by_identity.first("whatsapp", "0") is None
    # Values go as parameters, never into the SQL.
    assert by_identity.all("telegram", "0' OR '1'='1") == []


def test_a_value_that_is_not_a_placeholder_is_refused():
    fixed = Prepared(lambda contact: Message.objects.filter(contact_id=contact, type="text"), int)
    with pytest.raises(RuntimeError, match="placeholders"):
        fixed.all(1)


def test_only_the_models_own_columns():
    joined = Prepared(lambda pk: Channel.objects.select_related("workspace").filter(pk=pk), int)
    with pytest.raises(RuntimeError, match="own columns"):
        joined.all(1)
