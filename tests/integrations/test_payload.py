"""The one way every provider's JSON is read: ``load_json`` then ``parse_as``."""

from datetime import UTC, datetime

import pytest

from integrations.channel import MalformedPayload
from integrations.payload import (
    Id,
    OptId,
    OptStr,
    Payload,
    UnixMillis,
    UnixSeconds,
    load_json,
    parse_as,
)


class Person(Payload):
    id: int
    name: OptStr = ""


class Envelope(Payload):
    at: UnixSeconds
    people: list[Person] = []
    sent: UnixMillis | None = None


def test_a_document_is_read_as_typed_fields_and_unread_fields_are_ignored():
    envelope = parse_as(
        Envelope,
        load_json(b'{"at": "1700000000", "people": [{"id": 7, "name": null, "new": 1}], "x": 2}'),
    )
    assert envelope.at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert envelope.people == [Person(id=7, name="")]
    assert envelope.sent is None


def test_milliseconds_are_read_as_milliseconds():
    assert parse_as(Envelope, {"at": 0, "sent": 1_700_000_000_123}).sent == datetime(
        2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([], "body is not an object"),
        ({}, "at is missing"),
        ({"at": True}, "at is not a Unix time"),
        ({"at": "soon"}, "at is not a Unix time"),
        ({"at": "9" * 5000}, "at is not a Unix time"),
        ({"at": 10**30}, "at is not a Unix time"),
        ({"at": 1, "people": {}}, "people is not a list"),
        ({"at": 1, "people": [{"id": 1}, "two"]}, "people.1 is not an object"),
        ({"at": 1, "people": [{"id": "7"}]}, "people.0.id is not an integer"),
        ({"at": 1, "people": [{"id": True}]}, "people.0.id is not an integer"),
        ({"at": 1, "people": [{"id": 1, "name": 5}]}, "people.0.name is not a string"),
    ],
)
def test_what_is_not_as_documented_is_refused_with_where_it_is(document, reason):
    """Strict: a provider that changes a type is refused with the path, not read wrongly."""
    with pytest.raises(MalformedPayload) as refused:
        parse_as(Envelope, document)
    assert str(refused.value) == reason


def test_parsed_payloads_are_read_only():
    person = parse_as(Person, {"id": 1})
    with pytest.raises(ValueError, match="frozen"):
        person.id = 2


class Thing(Payload):
    id: Id
    owner: OptId = ""


@pytest.mark.parametrize(
    ("document", "read"),
    [
        ({"id": "abc"}, ("abc", "")),
        ({"id": 42, "owner": 7}, ("42", "7")),
        ({"id": 1, "owner": None}, ("1", "")),
    ],
)
def test_an_id_is_read_as_a_string_whether_sent_as_one_or_as_a_number(document, read):
    thing = parse_as(Thing, document)
    assert (thing.id, thing.owner) == read


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({}, "id is missing"),
        ({"id": ""}, "id is not an id"),
        ({"id": True}, "id is not an id"),
        ({"id": 1.5}, "id is not an id"),
        ({"id": None}, "id is not an id"),
        ({"id": 1, "owner": ""}, "owner is not an id"),
        ({"id": 1, "owner": False}, "owner is not an id"),
    ],
)
def test_what_is_not_an_id_is_refused(document, reason):
    with pytest.raises(MalformedPayload) as refused:
        parse_as(Thing, document)
    assert str(refused.value) == reason
