"""The sandbox is mounted in development and tests only, and stands apart from the product."""

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.contrib import admin
from django.test import override_settings
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_PACKAGES = {"accounts", "workspaces", "integrations", "channels", "octopods"}


def fresh_urlpatterns() -> list:
    """Run octopods/urls.py into a new module object (sys.modules keeps the real one)."""
    spec = importlib.util.find_spec("octopods.urls")
    module = importlib.util.module_from_spec(spec)
    login = admin.site.login  # the module wraps the admin login when it runs
    try:
        spec.loader.exec_module(module)
    finally:
        admin.site.login = login
    return module.urlpatterns


def mounts_sandbox(patterns) -> bool:
    return any(str(p.pattern) == "sandbox/" for p in patterns)


def test_it_is_mounted_under_test_settings():
    assert settings.SANDBOX_ENABLED
    assert "sandbox" in settings.INSTALLED_APPS
    assert reverse("sandbox:index") == "/sandbox/"
    assert settings.INTERCOM_AUTHORIZE_URL.endswith(reverse("sandbox:intercom_authorize"))
    assert settings.HUBSPOT_AUTHORIZE_URL.endswith(reverse("sandbox:hubspot_authorize"))
    me_url = settings.PUBLIC_BASE_URL + reverse("sandbox:intercom_me")
    assert me_url == f"{settings.INTERCOM_API_URL}/me"
    token_url = settings.PUBLIC_BASE_URL + reverse("sandbox:hubspot_token")
    assert token_url == f"{settings.HUBSPOT_API_URL}/oauth/v1/token"


def test_it_is_only_in_the_urls_when_the_setting_is_on():
    with override_settings(SANDBOX_ENABLED=False):
        assert not mounts_sandbox(fresh_urlpatterns())
    with override_settings(SANDBOX_ENABLED=True):
        assert mounts_sandbox(fresh_urlpatterns())


def test_it_serves_an_index_page_explaining_itself(client):
    response = client.get("/sandbox/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Provider sandbox · Sandbox</title>" in html
    assert html.count("Fake credentials for Add channel") == 1
    assert reverse("sandbox:intercom_uninstall") in html
    assert "never runs in production" in html


def test_it_is_off_in_production_even_when_the_environment_asks_for_it():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        {
            "ENV_FILE": os.devnull,
            "SANDBOX_ENABLED": "true",
            "SECRET_KEY": "x9#m2!vq" * 8,
            "DATABASE_URL": "postgres://octopods@db.internal:5432/octopods",
            "REDIS_URL": "redis://cache.internal:6379/0",
            "TOKEN_ENCRYPTION_KEYS": "dGVzdC1rZXktb25lLXRlc3Qta2V5LW9uZS10ZXN0LWs=",
            "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
            "DJANGO_SETTINGS_MODULE": "octopods.settings.prod",
        }
    )
    probe = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from django.urls import Resolver404, resolve\n"
        "assert settings.SANDBOX_ENABLED is False\n"
        "assert 'sandbox' not in settings.INSTALLED_APPS\n"
        "assert not settings.INTERCOM_AUTHORIZE_URL.endswith('/sandbox/intercom/oauth')\n"
        "try:\n"
        "    resolve('/sandbox/')\n"
        "except Resolver404:\n"
        "    print('not mounted')\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "not mounted"
    assert "SANDBOX_ENABLED = False" in (ROOT / "octopods/settings/prod.py").read_text()


def test_it_imports_nothing_of_the_product():
    for path in (ROOT / "sandbox").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in PRODUCT_PACKAGES, f"{path}: imports {name}"
