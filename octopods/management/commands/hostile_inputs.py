"""Send thousands of hostile requests to every webhook and form, in a throwaway
database, and print what came back (harness/hostile.py has the details)."""

import logging

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from harness import hostile


class Command(BaseCommand):
    help = (
        "Hostile inputs against every webhook (signed and not) and every form, through "
        "Django's test client in a throwaway database: prints the count per status and "
        "fails unless there is no 500, nothing stored from an unauthenticated request "
        "and nothing half-written."
    )

    def add_arguments(self, parser):
        parser.add_argument("--webhooks", type=int, default=5600, help="webhook requests")
        parser.add_argument("--forms", type=int, default=1400, help="form posts and page reads")
        parser.add_argument("--seed", type=int, default=1, help="the same seed, the same run")

    def handle(self, *args, webhooks, forms, seed, **options):
        settings_dict = connection.settings_dict
        if settings_dict["ENGINE"] != "django.db.backends.sqlite3":
            # Never the test database a test run may be using at the same time.
            settings_dict.setdefault("TEST", {})["NAME"] = f"test_{settings_dict['NAME']}_hostile"
        self.stderr.write(f"Creating a throwaway database ({settings_dict['ENGINE']})…")
        old_name = connection.creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False
        )
        # Thousands of refusals would each log a warning; the report is what counts.
        logging.disable(logging.CRITICAL)
        try:
            report = hostile.run(
                webhooks=webhooks, forms=forms, seed=seed, progress=self.stderr.write
            )
        finally:
            logging.disable(logging.NOTSET)
            connection.creation.destroy_test_db(old_name, verbosity=0)
        self.stdout.write(report.table())
        self.stdout.write("")
        self.stdout.write(report.summary())
        if not report.ok:
            raise CommandError(
                "hostile inputs found a 500, an unauthenticated write or a half-write"
            )
