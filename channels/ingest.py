"""The webhook's hot path on PostgreSQL: the channel found, and a customer's message
stored with its contact, each in one round trip.

The ORM spends more CPU building a statement than PostgreSQL spends running it (about
0.7 ms against 0.1 ms for the channel lookup), and a webhook made four of them inside a
transaction (BEGIN, the contact, the message, the channel's last-inbound time, COMMIT).
Here the channel's SELECT is compiled from the ORM once per process and run with each
request's values (octopods/prepared.py), and the contact and the message go in one
statement: the contact found, created or refreshed, the message inserted unless it is
already there (a provider's retry) — atomic on its own, so a single event needs no
transaction around it. Other databases (SQLite on a laptop) take the ORM's way in
channels/services.py; both give the same rows, as the tests check.
"""

import hashlib
from collections.abc import Iterable, Sequence
from contextlib import nullcontext

from django.db import connections, transaction
from django.utils import timezone

from octopods.prepared import Prepared

from .models import Channel, Contact, Message
from .selectors import contacts_of_customer, same_customer

_channel_by_webhook = Prepared(
    lambda kind, key: Channel.objects.filter(kind=kind, webhook_key=key).order_by()[:1], str, str
)


def webhook_channel(kind: str, key: str) -> Channel | None:
    """The channel whose webhook URL this is."""
    return _channel_by_webhook.first(kind, key)


def hold_customers(*, connection, channel_id: int, customers: Iterable[Sequence[str]]) -> None:
    """Inside the caller's transaction, wait for any other transaction finding or
    creating one of these customers (each given by the E.164 forms of their number) on
    this channel, until it ends.

    Only a number with another national form needs it: two messages in the two forms
    (a Brazilian wa_id without the ninth digit and an agent's send to the number with
    it) would each find no contact under their own form and each create one. Every
    other customer has one key, and the unique (channel, external id) makes the second
    insert find the first. The lock is PostgreSQL's transaction-level advisory lock on a
    hash of the channel and the number's forms: the statement after it takes its
    snapshot once the other transaction has committed, so it sees that contact. Several
    customers are locked in one order, so two webhooks naming the same two cannot each
    hold one and wait for the other."""
    if connection.vendor != "postgresql":
        return
    keys = sorted({_customer_key(channel_id, phones) for phones in customers if len(phones) > 1})
    if not keys:
        return
    with connection.cursor() as cursor:
        for key in keys:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _customer_key(channel_id: int, phones: Sequence[str]) -> int:
    name = f"contact:{channel_id}:{min(phones)}".encode()
    return int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "big", signed=True)


def _columns(model, given: dict, connection, now, *, skip=()) -> tuple[list[str], list]:
    """Every concrete column but the primary key, with the value Django would insert:
    ``given`` values (by attname), auto_now times set to ``now``, every other column's
    default — each prepared for the database by its field, without making an instance."""
    names, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.attname in skip:
            continue
        if field.attname in given:
            value = given[field.attname]
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        else:
            value = field.get_default()
        names.append(field.column)
        values.append(field.get_db_prep_save(value, connection))
    return names, values


def _sql(connection, contact_columns: list[str], message_columns: list[str]) -> str:
    q = connection.ops.quote_name
    contact_table, message_table = q(Contact._meta.db_table), q(Message._meta.db_table)
    c = {f.attname: q(f.column) for f in Contact._meta.concrete_fields}
    placeholders = lambda n: ", ".join(["%s"] * n)  # noqa: E731
    inserted = ", ".join(q(name) for name in contact_columns)
    contact_column = q(Message._meta.get_field("contact").column)
    # Only the models' own quoted table and column names are formatted in; every value
    # is a parameter.
    return f"""
WITH found AS (
    SELECT {c["id"]} AS id, {c["name"]} AS name, {c["username"]} AS username,
           {c["phone_e164"]} AS phone_e164, {c["address"]} AS address
    FROM {contact_table}
    WHERE {c["channel_id"]} = %s
      AND ({c["external_id"]} = ANY(%s) OR {c["phone_e164"]} = ANY(%s))
    ORDER BY {c["external_id"]} = %s DESC, {c["updated_at"]} DESC
    LIMIT 1
), created AS (
    INSERT INTO {contact_table} ({inserted})
    SELECT {placeholders(len(contact_columns))} WHERE NOT EXISTS (SELECT 1 FROM found)
    ON CONFLICT ({c["channel_id"]}, {c["external_id"]})
        DO UPDATE SET {c["updated_at"]} = {contact_table}.{c["updated_at"]}
    RETURNING {c["id"]} AS id
), fresh AS (
    SELECT id, name AS was_name, username AS was_username, phone_e164 AS was_phone,
           address AS was_address,
           COALESCE(NULLIF(%s, ''), name) AS name,
           COALESCE(NULLIF(%s, ''), username) AS username,
           COALESCE(NULLIF(%s, ''), phone_e164) AS phone_e164,
           COALESCE(NULLIF(%s, ''), address) AS address
    FROM found
), refreshed AS (
    UPDATE {contact_table} SET {c["name"]} = fresh.name, {c["username"]} = fresh.username,
        {c["phone_e164"]} = fresh.phone_e164, {c["address"]} = fresh.address,
        {c["updated_at"]} = %s
    FROM fresh
    WHERE {contact_table}.{c["id"]} = fresh.id
      AND (fresh.name, fresh.username, fresh.phone_e164, fresh.address)
          IS DISTINCT FROM (fresh.was_name, fresh.was_username, fresh.was_phone,
                            fresh.was_address)
), the_contact AS (
    SELECT id FROM found UNION ALL SELECT id FROM created
)
INSERT INTO {message_table} ({", ".join(q(name) for name in message_columns)}, {contact_column})
SELECT {placeholders(len(message_columns))}, the_contact.id FROM the_contact
ON CONFLICT DO NOTHING
RETURNING {contact_column}
"""  # noqa: S608


_statements: dict[tuple[str, tuple, tuple], str] = {}


def store_message(*, channel: Channel, contact: dict, message: dict) -> int:
    """Store ``message`` from ``contact`` (their fields by attname, values already fitted
    to their columns) in one statement: the contact — found by its external id or any
    equivalent form of its number (integrations/phone_identity.py) — is created on first
    sight and its name, username, phone and address refreshed when they changed; the
    message is inserted unless the channel has it already. Returns the contact's id."""
    connection = connections[Message.objects.db]
    now = timezone.now()
    contact_columns, contact_values = _columns(Contact, contact, connection, now)
    message_columns, message_values = _columns(
        Message, message, connection, now, skip={"contact_id"}
    )
    key = (connection.alias, tuple(contact_columns), tuple(message_columns))
    sql = _statements.get(key)
    if sql is None:
        sql = _statements.setdefault(key, _sql(connection, contact_columns, message_columns))
    updated_at = Contact._meta.get_field("updated_at")
    ids, phones = same_customer(contact["external_id"], contact["phone_e164"])
    params = [
        channel.pk,
        list(ids),
        list(phones),
        contact["external_id"],
        *contact_values,
        contact["name"],
        contact["username"],
        contact["phone_e164"],
        contact.get("address", ""),
        updated_at.get_db_prep_save(now, connection),
        *message_values,
    ]
    held = len(phones) > 1
    with transaction.atomic(using=connection.alias) if held else nullcontext():
        if held:
            hold_customers(connection=connection, channel_id=channel.pk, customers=[phones])
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
    if row is not None:
        return row[0]
    # The message was there already (a retry): the contact is the one it belongs to.
    return (
        contacts_of_customer(channel=channel, ids=ids, phones=phones)
        .values_list("pk", flat=True)
        .first()
    )
