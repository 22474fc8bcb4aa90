"""The single-column indexes Django made for three foreign keys go: a composite index
starting with the same column serves every lookup they served, and each index is one
more write for every stored message and contact.

Only the indexes are dropped (CONCURRENTLY on PostgreSQL, so webhooks keep storing
while it runs); the foreign-key constraints stay as they are. Re-creating a constraint,
as a plain AlterField would, validates the whole table under a lock that stops writes.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    # index: (table, column)
    "octopods_channels_contact_channel_id_22bd0c64": ("octopods_channels_contact", "channel_id"),
    "octopods_channels_message_channel_id_5ce7bb13": ("octopods_channels_message", "channel_id"),
    "octopods_channels_message_contact_id_e8a96742": ("octopods_channels_message", "contact_id"),
}


def _concurrently(schema_editor) -> str:
    return " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""


def drop(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX{_concurrently(schema_editor)} IF EXISTS {name}")


def create(apps, schema_editor):
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX{_concurrently(schema_editor)} IF NOT EXISTS {name} "
            f"ON {table} ({column})"
        )


def foreign_key(related_name: str, to: str):
    return models.ForeignKey(
        db_index=False,
        on_delete=django.db.models.deletion.CASCADE,
        related_name=related_name,
        to=to,
    )


class Migration(migrations.Migration):
    atomic = False  # CREATE/DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("octopods_channels", "0008_relay_fencing"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="contact",
                    name="channel",
                    field=foreign_key("contacts", "octopods_channels.channel"),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="channel",
                    field=foreign_key("messages", "octopods_channels.channel"),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="contact",
                    field=foreign_key("messages", "octopods_channels.contact"),
                ),
            ],
            database_operations=[migrations.RunPython(drop, create)],
        ),
    ]
