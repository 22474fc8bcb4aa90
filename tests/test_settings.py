import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent

PROD_ENV = {
    "SECRET_KEY": "x9#m2!vq" * 8,
    "DATABASE_URL": "postgres://octopods@db.internal:5432/octopods",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
    "ALLOWED_HOSTS": "octopods.example.com",
}


def manage(*args, env):
    # The browser tests allow sync ORM calls under an event loop; production must not.
    dropped = {*PROD_ENV, "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args, "--settings=octopods.settings.prod"],
        cwd=ROOT,
        env={**base, **env, "ENV_FILE": os.devnull},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_deploy_under_production_settings_prints_no_warning():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PROD_ENV)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "DATABASE_URL", "TOKEN_ENCRYPTION_KEYS", "REDIS_URL", "EMAIL_URL"]
)
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "Production settings need these environment variables: " + missing in result.stderr


@pytest.mark.django_db
def test_pages_are_served_with_an_enforced_csp_and_a_script_nonce(client):
    response = client.get("/auth/login/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "object-src 'none'" in policy
    # Forms post only to us, and the Connect buttons' redirects to the inboxes' sign-in.
    assert "form-action 'self' https://app.hubspot.com https://app.intercom.com" in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.content.decode()
    assert "Content-Security-Policy-Report-Only" not in response


@pytest.mark.django_db
def test_each_response_gets_a_fresh_nonce(client):
    first = client.get("/auth/login/")["Content-Security-Policy"]
    second = client.get("/auth/login/")["Content-Security-Policy"]
    assert first != second


def test_embedded_defaults_need_nothing_installed():
    """Without any environment, the development settings use SQLite, no broker, the
    console mailer and the sandbox."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "EMAIL_URL",
            "DJANGO_SETTINGS_MODULE",
            "SANDBOX_ENABLED",
            "TOKEN_ENCRYPTION_KEYS",
            "SECRET_KEY",
        }
    }
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, "
        "s.MAILERS['default']['BACKEND'], s.SANDBOX_ENABLED, s.CACHES['default']['BACKEND']]))"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**env, "DJANGO_SETTINGS_MODULE": "octopods.settings.dev", "ENV_FILE": os.devnull},
    )
    assert result.stdout.strip() == (
        '["django.db.backends.sqlite3", true, "octopods.mail.ConsoleEmailBackend", '
        'true, "django.core.cache.backends.locmem.LocMemCache"]'
    )


def test_templates_are_compiled_once_per_process():
    """Django's cached loader wraps the loaders when TEMPLATES names none (base.py, which
    production uses as it is): a page never parses its templates again."""
    from django.template import engines
    from django.template.loaders.cached import Loader

    (loader,) = engines["django"].engine.template_loaders
    assert isinstance(loader, Loader)
