from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from octopods.crypto import encrypted_fields

BATCH = 500


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the first key of TOKEN_ENCRYPTION_KEYS, "
        "so older keys can then be removed."
    )

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            fields = encrypted_fields(model)
            if not fields:
                continue
            count = 0
            pks = list(model._base_manager.order_by("pk").values_list("pk", flat=True))
            for start in range(0, len(pks), BATCH):
                with transaction.atomic():
                    # Lock the batch so a concurrent token refresh cannot be overwritten
                    # by the value read here.
                    rows = model._base_manager.select_for_update().filter(
                        pk__in=pks[start : start + BATCH]
                    )
                    for row in rows:
                        # Reading decrypts with any key; writing encrypts with the first.
                        values = {name: getattr(row, name) for name in fields}
                        model._base_manager.filter(pk=row.pk).update(**values)
                        count += 1
            total += count
            self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"Done: {total} rows re-encrypted."))
