# syntax=docker/dockerfile:1
# Octopods production image: gunicorn by default; the same image runs the Celery
# worker, Celery beat and migrations with a different command (see docker-compose.yml).
#
# Two stages: "build" installs the locked dependencies (requirements/prod.txt, every
# file checked against its hash) into a virtualenv and collects the static files;
# "runtime" is a clean slim image with that virtualenv and the application only.
# What never ships (tests, the sandbox, the harnesses, dev scripts) is listed in
# .dockerignore. tests/test_build.py checks this file, as no Docker daemon runs in CI.
ARG PYTHON_IMAGE=python:3.13-slim

FROM ${PYTHON_IMAGE} AS build

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# Dependencies first, from the lock alone, so this layer is cached until the lock
# changes. Wheels only: the slim image has no compiler, and every locked package
# ships a wheel for Linux (psycopg[binary], cryptography included).
RUN python -m venv /opt/venv
COPY requirements/prod.txt /tmp/requirements.txt
RUN pip install --require-hashes --only-binary=:all: -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

WORKDIR /app
COPY . .

# Static files are collected at build time; whitenoise serves them. The production
# settings refuse to load without these variables, so give them throwaway values
# that exist only for this command (nothing connects to them).
RUN SECRET_KEY=collectstatic-only-build-time-secret-key-not-used-at-runtime-0000 \
    DATABASE_URL=postgres://build@localhost:5432/build \
    REDIS_URL=redis://localhost:6379/0 \
    EMAIL_URL=smtp://localhost:25 \
    TOKEN_ENCRYPTION_KEYS="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
    DJANGO_SETTINGS_MODULE=octopods.settings.prod \
    python manage.py collectstatic --noinput


FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=octopods.settings.prod \
    PYTHONPATH=/app

# Run as an unprivileged user. /var/lib/octopods holds Celery beat's schedule file and
# (media/) the customer files the relay keeps for the inbox when no S3 bucket is
# configured (MEDIA_S3_BUCKET).
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home octopods \
    && mkdir -p /var/lib/octopods/media \
    && chown -R octopods:octopods /var/lib/octopods

COPY --from=build /opt/venv /opt/venv
# The application runs from /app (on PYTHONPATH), where settings find templates/,
# static/ and staticfiles/ next to the code. Owned by root: the app cannot rewrite it.
COPY --from=build /app /app
WORKDIR /app

USER octopods

EXPOSE 8000

# Liveness of the web process: /healthz answers 200 without touching the database.
# The request claims https (as the TLS proxy in front would) so SECURE_SSL_REDIRECT
# does not redirect it, and uses the first ALLOWED_HOSTS entry as its Host. The worker
# and beat containers run this image without a web server: their services need a
# healthcheck of their own (or `disable: true`), or they would be marked unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import http.client, os, sys; h = os.environ.get('ALLOWED_HOSTS', 'localhost').split(',')[0].strip().lstrip('.'); h = 'localhost' if h in ('', '*') else h; c = http.client.HTTPConnection('127.0.0.1', 8000, timeout=3); c.request('GET', '/healthz', headers={'Host': h, 'X-Forwarded-Proto': 'https'}); sys.exit(0 if c.getresponse().status == 200 else 1)"]

# WEB_CONCURRENCY (read by gunicorn) sets the number of worker processes.
ENV WEB_CONCURRENCY=3
CMD ["gunicorn", "octopods.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--timeout", "30"]
