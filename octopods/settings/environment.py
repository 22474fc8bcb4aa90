"""The settings' one reader of the environment: django-environ's, made strict.

django-environ reads a boolean it does not know ('flase') as False and the rest of a
malformed value silently; a typo then changes how production behaves without a word.
Every boolean, integer and URL variable the settings read goes through ``StrictEnv``,
which stops start-up with ImproperlyConfigured naming the variable instead. A variable
set but empty counts as unset (its default applies). URLs are checked for their scheme
and host and never quoted back: they may hold a password.
"""

import re
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})
FALSE = frozenset({"0", "false", "no", "off", "n", "f"})
INTEGER = re.compile(r"[+-]?\d+")
REDIS_SCHEMES = ("redis", "rediss")
WEB_SCHEMES = ("http", "https")
# The databases the product runs on: PostgreSQL, and SQLite on a laptop.
DATABASE_SCHEMES = ("postgres", "postgresql", "pgsql", "psql", "sqlite")


class StrictEnv(environ.Env):
    def _raw(self, var: str) -> str | None:
        """The variable's text, or None when it is unset or empty."""
        value = self.ENVIRON.get(var)
        if value is None or not value.strip():
            return None
        return value.strip()

    def _default(self, var: str, default):
        if default is self.NOTSET:
            raise ImproperlyConfigured(f"Set the {var} environment variable")
        return default

    def bool(self, var: str, default=environ.Env.NOTSET) -> bool:
        raw = self._raw(var)
        if raw is None:
            return self._default(var, default)
        if raw.lower() in TRUE:
            return True
        if raw.lower() in FALSE:
            return False
        raise ImproperlyConfigured(
            f"{var} must be a boolean (true or false, yes or no, on or off, 1 or 0), not {raw!r}"
        )

    def int(self, var: str, default=environ.Env.NOTSET) -> int:
        raw = self._raw(var)
        if raw is None:
            return self._default(var, default)
        if not INTEGER.fullmatch(raw):
            raise ImproperlyConfigured(f"{var} must be a whole number, not {raw!r}")
        return int(raw)

    def _url(self, var: str, default, schemes, *, host: bool = True) -> str:
        raw = self._raw(var)
        if raw is None:
            return self._default(var, default)
        problem = url_problem(raw, schemes, host=host)
        if problem:
            raise ImproperlyConfigured(f"{var} is not a valid URL: {problem}")
        return raw

    def db_url(self, var: str = "DATABASE_URL", default=environ.Env.NOTSET, engine=None):
        raw = self._raw(var)
        if raw is not None:
            scheme = urlsplit(raw).scheme
            # SQLite's URLs have a path and no host; every server's needs a host.
            self._url(var, default, DATABASE_SCHEMES, host=scheme != "sqlite")
        return super().db_url(var, default=default, engine=engine)

    def email_url(self, var: str = "EMAIL_URL", default=environ.Env.NOTSET, backend=None):
        raw = self._raw(var)
        if raw is not None:
            scheme = urlsplit(raw).scheme
            self._url(var, default, tuple(self.EMAIL_SCHEMES), host=scheme.startswith("smtp"))
        return super().email_url(var, default=default, backend=backend)

    def redis_url(self, var: str, default=environ.Env.NOTSET) -> str:
        return self._url(var, default, REDIS_SCHEMES)

    def web_url(self, var: str, default=environ.Env.NOTSET) -> str:
        return self._url(var, default, WEB_SCHEMES)


def url_problem(url: str, schemes, *, host: bool) -> str:
    """What is wrong with ``url`` (without quoting it), or '' when nothing is."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number
    except ValueError:
        return "its port is not a number"
    if parts.scheme not in schemes:
        return "its scheme must be one of " + ", ".join(f"{s}://" for s in schemes)
    if host and not parts.hostname:
        return "it names no host"
    del port
    return ""
