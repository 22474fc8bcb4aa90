"""MessageTemplate.meta_name leaves the model: WhatsApp's templates are synced from Meta
(WhatsAppTemplate, 0010).

Only the model forgets it now. The column stays one release longer, given a database
default of '' so this release's INSERTs (which no longer name it) succeed, while the
release before it — still serving until the new code is up — keeps reading it. A later
migration drops the column once no running code knows it. On PostgreSQL, setting a
default is a catalogue change: no rewrite, no long lock.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("octopods_channels", "0010_whatsapp_templates"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterField(
                    model_name="messagetemplate",
                    name="meta_name",
                    field=models.CharField(max_length=512, blank=True, default="", db_default=""),
                ),
            ],
            state_operations=[
                migrations.RemoveField(model_name="messagetemplate", name="meta_name"),
            ],
        ),
    ]
