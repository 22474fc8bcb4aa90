"""kombu's Redis transport, with one fix that keeps a worker alive when Redis dies.

When the broker connection drops, Celery's consumer calls ``Connection.collect()`` and
then ``Connection.close()`` (celery/worker/consumer/consumer.py,
``on_connection_error_after_connected``). ``collect()`` closes the channels and then
drops the transport's link to its connection (``transport.client = None``). kombu
5.7's ``redis.Channel.close()`` first reads the reply of a BRPOP in flight
(``_brpop_read``) and lets the connection error from that read escape before the
channel is marked closed, so ``collect()`` leaves the consumer's channel open. The
following ``close()`` closes it again: the channel restores the unacknowledged
messages it holds (``QoS.restore_unacked``), which builds a new Redis client from
``self.connection.client`` — now None — and raises ``AttributeError: 'NoneType' object
has no attribute 'hostname'``. That is not a connection error, so nothing ignores it and
the worker stops with "Unrecoverable error". It happens whenever Redis goes away while
the worker waits on BRPOP *and* holds unacknowledged (acks_late) tasks: one Redis kill
in two, in practice. (The same dereference of a dropped client is behind
celery/kombu#582 and #970.)

Here a BRPOP reply that will never come is not waited for: a connection error while
reading it lets ``close()`` go on, so ``collect()`` closes the channel (and tries to
hand its messages back) while the transport is still whole; the failed hand-back is a
connection error, which Celery ignores before it reconnects.

Messages a closing channel could not hand back stay in Redis's unacked set and are
redelivered after the visibility timeout; the relay's rows in PostgreSQL decide what is
still to be done either way.
"""

from queue import Empty

from kombu.transport import redis


class Channel(redis.Channel):
    def close(self):
        if self._in_poll and not self.closed:
            try:
                self._brpop_read()
            except Empty:
                pass
            except self.connection_errors:
                pass  # the connection is gone, and the reply with it
        super().close()


class Transport(redis.Transport):
    Channel = Channel
