"""A contact's ``address`` (where the provider reaches them, as its latest webhook named
them: WhatsApp's wa_id may be another form of the number the contact was first known by,
integrations/phone_identity.py), and an index on (channel, phone_e164) so a customer's
message finds their contact by any form of their number.

Adding a column with a constant default is a catalogue change on PostgreSQL (no
rewrite); the default stays in the database, so the release before this one, still
serving during a deploy, inserts contacts without naming the column. The index is built CONCURRENTLY there, so webhooks keep storing while it runs.
"""

from django.db import migrations, models

INDEX, TABLE = "contact_channel_phone", "octopods_channels_contact"


def _concurrently(schema_editor) -> str:
    return " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""


def create(apps, schema_editor):
    schema_editor.execute(
        f"CREATE INDEX{_concurrently(schema_editor)} IF NOT EXISTS {INDEX} "
        f"ON {TABLE} (channel_id, phone_e164)"
    )


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX{_concurrently(schema_editor)} IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("octopods_channels", "0011_drop_messagetemplate_meta_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="contact",
            name="address",
            field=models.CharField(blank=True, default="", db_default="", max_length=128),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="contact",
                    index=models.Index(fields=["channel", "phone_e164"], name=INDEX),
                ),
            ],
            database_operations=[migrations.RunPython(create, drop, elidable=False)],
        ),
    ]
