# syntax=docker/dockerfile:1
# Octopods production image: gunicorn by default; the same image runs the Celery
# worker, Celery beat and migrations with a different command (see docker-compose.yml).
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=octopods.settings.prod \
    PYTHONPATH=/app

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so this layer is cached until the
# dependency list changes. (psycopg[binary] and cryptography ship wheels: no compiler.)
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The application runs from /app (on PYTHONPATH), where settings find templates/,
# static/ and staticfiles/ next to the code.
COPY . .

# Static files are collected at build time; whitenoise serves them. The production
# settings refuse to load without these variables, so give them throwaway values
# that exist only for this command (nothing connects to them).
RUN SECRET_KEY=collectstatic-only-build-time-secret-key-not-used-at-runtime-0000 \
    DATABASE_URL=postgres://build@localhost:5432/build \
    REDIS_URL=redis://localhost:6379/0 \
    EMAIL_URL=smtp://localhost:25 \
    TOKEN_ENCRYPTION_KEYS="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
    python manage.py collectstatic --noinput

# Run as an unprivileged user. /var/lib/octopods holds Celery beat's schedule file and
# (media/) the customer files the relay keeps for the inbox.
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home octopods \
    && mkdir -p /var/lib/octopods/media \
    && chown -R octopods:octopods /var/lib/octopods
USER octopods

EXPOSE 8000

# WEB_CONCURRENCY (read by gunicorn) sets the number of worker processes.
ENV WEB_CONCURRENCY=3
CMD ["gunicorn", "octopods.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--timeout", "30"]
