"""A malformed boolean, integer or URL in the environment stops start-up with a message
naming the variable (octopods/settings/environment.py), rather than being read as
something else: 'flase' is not False, '12x' is not 12."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent

PROD_ENV = {
    "SECRET_KEY": "x9#m2!vq" * 8,
    "DATABASE_URL": "postgres://octopods:s3cret-pw@db.internal:5432/octopods",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
    "ALLOWED_HOSTS": "octopods.example.com",
}


def start(settings: str, **variables: str) -> subprocess.CompletedProcess:
    """Import the settings in a process of their own, as start-up does."""
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {*PROD_ENV, "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"}
    }
    return subprocess.run(  # noqa: S603 - our own settings
        [sys.executable, "-c", f"import octopods.settings.{settings}"],
        cwd=ROOT,
        env={**base, **PROD_ENV, **variables, "ENV_FILE": os.devnull},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_production_settings_start_with_well_formed_values():
    result = start("prod", SECURE_SSL_REDIRECT="false", DB_CONN_MAX_AGE="0")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("SECURE_SSL_REDIRECT", "flase", "SECURE_SSL_REDIRECT must be a boolean"),
        ("SANDBOX_ENABLED", "ture", "SANDBOX_ENABLED must be a boolean"),
        ("DEBUG", "2", "DEBUG must be a boolean"),
        ("SECURE_HSTS_SECONDS", "12x", "SECURE_HSTS_SECONDS must be a whole number"),
        ("DB_CONN_MAX_AGE", "1.5", "DB_CONN_MAX_AGE must be a whole number"),
        ("READY_MAX_BACKLOG_AGE", "five", "READY_MAX_BACKLOG_AGE must be a whole number"),
        ("DATABASE_URL", "nonsense", "DATABASE_URL is not a valid URL"),
        ("DATABASE_URL", "postgres://db.internal:54x2/octopods", "DATABASE_URL is not a valid URL"),
        ("REDIS_URL", "http://x", "REDIS_URL is not a valid URL"),
        ("REDIS_URL", "redis://", "REDIS_URL is not a valid URL"),
        ("CELERY_BROKER_URL", "amqp://broker", "CELERY_BROKER_URL is not a valid URL"),
        ("EMAIL_URL", "mailer.example.com", "EMAIL_URL is not a valid URL"),
        ("PUBLIC_BASE_URL", "octopods.example.com", "PUBLIC_BASE_URL is not a valid URL"),
        ("INTERCOM_API_URL", "ftp://api.intercom.io", "INTERCOM_API_URL is not a valid URL"),
    ],
)
def test_a_malformed_value_stops_start_up_naming_the_variable(variable, value, complaint):
    result = start("prod", **{variable: value})
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: " + complaint), last


def test_a_url_is_never_quoted_back_it_may_hold_a_password():
    result = start("prod", DATABASE_URL="postgress://octopods:s3cret-pw@db.internal/octopods")
    assert result.returncode != 0
    assert "DATABASE_URL is not a valid URL" in result.stderr
    assert "s3cret-pw" not in result.stderr


def test_the_laptop_and_test_settings_are_as_strict():
    for settings in ("dev", "test"):
        result = start(settings, DEBUG="yes please")
        assert result.returncode != 0
        assert "DEBUG must be a boolean" in result.stderr.strip().splitlines()[-1]


def test_an_empty_variable_is_unset_and_well_formed_words_are_read():
    script = (
        "import os\n"
        "from octopods.settings.environment import StrictEnv\n"
        "env = StrictEnv()\n"
        "print(env.bool('A', default=True), env.bool('B'), env.bool('C'), env.int('D'),"
        " env.int('E', default=7), env.redis_url('F', default=''))\n"
    )
    result = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "A": "", "B": " Off ", "C": "YES", "D": "-3", "E": " ", "F": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.split() == ["True", "False", "True", "-3", "7"], result.stderr
