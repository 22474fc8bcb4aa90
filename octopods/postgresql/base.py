"""Django's PostgreSQL backend, with a health check that costs no round trip.

With CONN_HEALTH_CHECKS, Django checks a kept connection before the first query of
each request and task by running ``SELECT 1`` (django/db/backends/postgresql/base.py,
``is_usable``): one more round trip for every webhook, page and relayed contact. A
connection that the server has closed — a restart, a failover, an idle timeout,
``pg_terminate_backend`` — always has something to read: the server's FATAL
"terminating connection …" message, or the end of the stream. So the socket is asked
first, without waiting: nothing to read means the server has said nothing since the
last statement, and the connection is used as it is; anything to read, and Django's
``SELECT 1`` decides (it fails on a closed connection and reads past a harmless
notice). A server that vanished without a word (a cut network) is noticed by neither
check before the next statement, which then fails within the connect and keepalive
timeouts (settings.postgres_options) and answers 503.
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        try:
            poller = select.poll()
            poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
            said_something = bool(poller.poll(0))
        except (OSError, ValueError, base.Database.Error):
            return False
        return not said_something or super().is_usable()
