"""The floor the pages and the webhook are measured against: a bare Django view (no
apps, no middleware, no database), served by a gunicorn of its own with as many sync
workers as Octopods'. It lives here, not in the product, so nothing of it can be
switched on in production.

Beside it, ``/stored/``: the least any webhook that keeps a message can do — the
Telegram secret checked, the body parsed, and one row INSERTed and committed (the
table is made by the benchmark, bench/__main__.py) — the durable write every stored
webhook pays, whatever else it does.

    gunicorn bench.floor:application
"""

import hmac
import json
import os

import environ
from django.conf import settings

if not settings.configured:
    database = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    database["CONN_MAX_AGE"] = 600
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-floor-not-a-secret",  # noqa: S106 - serves "ok", signs nothing
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[],
        MIDDLEWARE=[],
        DATABASES={"default": database},
    )

import django
from django.core.wsgi import get_wsgi_application
from django.db import connection
from django.http import HttpResponse, HttpResponseForbidden
from django.urls import path

from bench.targets import STORED_TABLE
from harness.data import SECRET


def bare(request):
    return HttpResponse("ok")


def stored(request):
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not hmac.compare_digest(given.encode(), SECRET.encode()):
        return HttpResponseForbidden("bad secret")
    update = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {STORED_TABLE} (update_id, payload) VALUES (%s, %s::jsonb)",  # noqa: S608
            [update["update_id"], request.body.decode()],
        )
    return HttpResponse("ok")


urlpatterns = [path("stored/", stored), path("", bare), path("<path:rest>", bare)]

django.setup(set_prefix=False)
application = get_wsgi_application()
