"""Sessions read from the cache (Redis) and written through to the database.

Every signed-in page reads its session first; from Redis that is a tenth of what the
database query cost (a GET against an ORM query, parsed and planned by PostgreSQL).
The database stays the record, so a session is exactly as revocable as before:

- signing out deletes the session from the database and then from the cache; if
  Redis cannot be reached then, signing out fails rather than pretends;
- changing the password ends the other sessions as before (Django checks each
  session's hash of the password on every request, wherever the session is kept);
- a session removed from the database some other way (by hand, ``clearsessions``)
  lives on in the cache for at most ``CACHE_SECONDS``.

Unlike Django's ``cached_db``, a page does not fail while Redis is down: the session is
read from the database instead (as the ``db`` engine does) and the failed cache write
is logged. Only for a cache that every process shares (settings: Redis); a cache in one
process's memory would keep a signed-out session alive in the others.
"""

import logging

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore

logger = logging.getLogger(__name__)

# How long the cache may answer for a session without the database being asked again.
CACHE_SECONDS = 300


class SessionStore(cached_db.SessionStore):
    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:
            logger.warning("session cache unreachable; reading the session from the database")
            data = None
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        self._cache_set(data, self.get_expiry_age(expiry=stored.expire_date))
        return data

    def save(self, must_create=False):
        DatabaseStore.save(self, must_create)
        self._cache_set(self._session, self.get_expiry_age())

    def _cache_set(self, data, age: int):
        try:
            self._cache.set(self.cache_key, data, min(age, CACHE_SECONDS))
        except Exception:
            logger.exception("session not cached (the database has it)")
