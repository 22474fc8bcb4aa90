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


def test_related_objects_and_annotations_come_as_the_orm_gives_them(cast):
    from django.db.models import OuterRef, Subquery

    from channels.models import Contact
    from workspaces.models import InboxAdmin, Provider, Workspace

    workspace = Workspace.objects.create(
        account=cast.account, provider=Provider.INTERCOM, external_id="w", name="W"
    )
    InboxAdmin.objects.create(workspace=workspace, external_id="a-2", name="Second")
    InboxAdmin.objects.create(workspace=workspace, external_id="a-1", name="First")
    channel = Channel(workspace=workspace, kind="telegram", name="Bot", identity="7")
    channel.credentials_data = {"bot_token": "7:secret"}
    channel.save()
    contact = Contact.objects.create(channel=channel, external_id="555", name="Jane")

    def build(pk):
        return (
            Contact.objects.select_related("channel__workspace")
            .annotate(
                first_admin=Subquery(
                    InboxAdmin.objects.filter(workspace=OuterRef("channel__workspace"))
                    .order_by("pk")
                    .values("external_id")[:1]
                )
            )
            .filter(pk=pk)
        )

    (orm,) = build(contact.pk)
    prepared = Prepared(build, int).first(contact.pk)
    assert prepared.first_admin == orm.first_admin == "a-2"
    assert (prepared.pk, prepared.name) == (orm.pk, orm.name)
    assert prepared.channel.credentials_data == {"bot_token": "7:secret"}
    assert prepared.channel.workspace.name == "W"
    assert prepared.channel.workspace.access_token == orm.channel.workspace.access_token
    assert Prepared(build, int).first(contact.pk + 1000) is None


def test_values_list_rows_come_as_the_orm_gives_them(cast):
    from workspaces.models import Provider, Workspace

    for n in (2, 1, 3):
        Workspace.objects.create(
            account=cast.account, provider=Provider.HUBSPOT, external_id=f"h{n}", name=f"W{n}"
        )

    def build(account):
        return (
            Workspace.objects.filter(account_id=account)
            .order_by("name", "pk")
            .values_list("pk", "name", "updated_at", "connected_by__email")
        )

    prepared = Prepared(build, int)
    assert prepared.values(cast.account.pk) == list(build(cast.account.pk))
    assert [name for _, name, _, _ in prepared.values(cast.account.pk)] == ["W1", "W2", "W3"]
    with pytest.raises(TypeError, match="values"):
        prepared.all(cast.account.pk)
