"""The floor the pages and the webhook are measured against: a bare Django view (no
apps, no middleware, no database), served by a gunicorn of its own with as many sync
workers as Octopods'. It lives here, not in the product, so nothing of it can be
switched on in production.

    gunicorn bench.floor:application
"""

from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-floor-not-a-secret",  # noqa: S106 - serves "ok", signs nothing
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[],
        MIDDLEWARE=[],
        DATABASES={},
    )

import django
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import path


def bare(request):
    return HttpResponse("ok")


urlpatterns = [path("", bare), path("<path:rest>", bare)]

django.setup(set_prefix=False)
application = get_wsgi_application()
