from django.db import migrations, models

import channels.models


def give_each_channel_a_key(apps, schema_editor):
    Channel = apps.get_model("octopods_channels", "Channel")
    for channel in Channel.objects.filter(webhook_key__isnull=True):
        channel.webhook_key = channels.models.new_webhook_key()
        channel.save(update_fields=["webhook_key"])


class Migration(migrations.Migration):
    dependencies = [("octopods_channels", "0002_channel_domain")]

    operations = [
        migrations.RunPython(give_each_channel_a_key, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="channel",
            name="webhook_key",
            field=models.CharField(
                default=channels.models.new_webhook_key, max_length=64, unique=True
            ),
        ),
    ]
