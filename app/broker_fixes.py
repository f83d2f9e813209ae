"""A workaround for kombu's Redis transport losing a worker's consumer after a broker outage.

When the connection to Redis drops while a worker holds unacknowledged messages (its
running chunks), Celery closes the old connection; kombu's channel close then tries to
hand those messages back through a connection it has already torn down, and fails with
``AttributeError: 'NoneType' object has no attribute 'hostname'``; and when such a chunk
ends after the reconnection, its acknowledgement goes through the same dead channel and
fails alike (``… attribute 'client'``). Celery treats either as unrecoverable: the worker
stops consuming for good, though its process lives on (seen in
tests/chaos/test_redis_faults.py with kombu 5.7.0).

The messages cannot be handed back then anyway (the broker is gone, and if it comes
back empty they are gone too); they stay unacknowledged in Redis, where the running
chunks acknowledge or the lost-message check (app/jobs/maintenance.py) finds them. So
the failed hand-back is logged and the reconnection goes on.
"""

from __future__ import annotations

import functools
import logging

from kombu.transport import redis as kombu_redis
from kombu.transport import virtual

log = logging.getLogger(__name__)


def keep_consuming_after_broker_outages() -> None:
    """Make kombu's hand-back of unacknowledged messages at a lost connection non-fatal."""
    restore_unacked = kombu_redis.QoS.restore_unacked
    if getattr(restore_unacked, "tolerates_closed_connection", False):
        return

    @functools.wraps(restore_unacked)
    def restore_unacked_if_connected(self, client=None):  # noqa: ANN001, ANN202 - kombu's signature
        try:
            return restore_unacked(self, client)
        except AttributeError as error:  # the channel's connection is already torn down
            log.warning(
                "Could not hand back %d unacknowledged message(s) after losing Redis: %s",
                len(self._delivered),
                error,
            )
            self._delivered.clear()
            return None

    restore_unacked_if_connected.tolerates_closed_connection = True
    kombu_redis.QoS.restore_unacked = restore_unacked_if_connected

    ack = kombu_redis.QoS.ack

    @functools.wraps(ack)
    def ack_if_connected(self, delivery_tag):  # noqa: ANN001, ANN202 - kombu's signature
        try:
            return ack(self, delivery_tag)
        except AttributeError as error:  # its channel's connection is already torn down
            log.warning("Could not acknowledge a message of a connection lost to Redis: %s", error)
            return virtual.QoS.ack(self, delivery_tag)  # forget it here; Redis keeps it unacknowledged

    kombu_redis.QoS.ack = ack_if_connected
