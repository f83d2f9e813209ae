"""How many event streams a process serves, and how many one user holds across every process.

A process serves at most SSE_MAX_STREAMS streams (counted here). A user holds at most
SSE_MAX_STREAMS_PER_USER of them on the whole platform: each stream takes a lease in a
Redis sorted set of that user's streams, given back when the stream ends and expiring on
its own after the stream's longest life, so a killed process leaks nothing for long.
Without Redis (the local default), or while it does not answer, each process counts its
own streams per user instead: streams go on working, with a share per process.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import Counter

import redis
from flask import current_app

log = logging.getLogger(__name__)

LEASE_MARGIN_SECONDS = 60
USER_STREAMS_KEY = "{prefix}:streams:user:{user_id}"
# Drop expired leases, refuse past the share, else take a lease: one atomic step.
TAKE_LEASE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""

_lock = threading.Lock()


class StreamSlots:
    """Count the streams this process serves, in all and per user; refuse one past either limit."""

    def __init__(self, client: redis.Redis | None, key_prefix: str) -> None:
        self._lock = threading.Lock()
        self.open = 0
        self.by_user: Counter[int] = Counter()
        self.client = client
        self.key_prefix = key_prefix
        self._take_lease = client.register_script(TAKE_LEASE) if client is not None else None

    def acquire(
        self, user_id: int, limit: int, per_user: int, lifetime: float
    ) -> tuple[str | None, str | None]:
        """Take a slot for the user's stream: (None, lease) or the limit reached ("user" or "process", None)."""
        with self._lock:
            if self.open >= limit:
                return "process", None
            self.open += 1
            self.by_user[user_id] += 1
            local_count = self.by_user[user_id]
        lease = self._lease(user_id, per_user, lifetime)
        if lease is False or (lease is None and local_count > per_user):
            self.release(user_id, None)
            return "user", None
        return None, lease or None

    def _lease(self, user_id: int, per_user: int, lifetime: float) -> str | bool | None:
        """A lease id; False past the user's share; None when there is no Redis to ask."""
        if self._take_lease is None:
            return None
        lease = secrets.token_hex(8)
        now = time.time()
        try:
            taken = self._take_lease(
                keys=[self.user_key(user_id)],
                args=[
                    now,
                    now + lifetime + LEASE_MARGIN_SECONDS,
                    per_user,
                    lease,
                    int(lifetime) + 2 * LEASE_MARGIN_SECONDS,
                ],
            )
        except redis.RedisError as error:
            log.warning("Stream shares counted per process: Redis did not answer (%s)", error)
            return None
        return lease if taken else False

    def release(self, user_id: int, lease: str | None) -> None:
        with self._lock:
            self.open -= 1
            self.by_user[user_id] -= 1
            if self.by_user[user_id] <= 0:
                del self.by_user[user_id]
        if lease is not None and self.client is not None:
            try:
                self.client.zrem(self.user_key(user_id), lease)
            except redis.RedisError as error:  # the lease expires on its own
                log.warning("A stream's lease stays until it expires: Redis did not answer (%s)", error)

    def user_key(self, user_id: int) -> str:
        return USER_STREAMS_KEY.format(prefix=self.key_prefix, user_id=user_id)


def stream_redis() -> redis.Redis | None:
    """The app's Redis client for stream tickets and shares; None without Redis."""
    with _lock:
        if "stream_redis" not in current_app.extensions:
            url = current_app.config["REDIS_URL"]
            current_app.extensions["stream_redis"] = (
                redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2) if url else None
            )
        return current_app.extensions["stream_redis"]


def stream_slots() -> StreamSlots:
    """The app's stream counter, created on first use."""
    client = stream_redis()
    with _lock:
        if "job_event_streams" not in current_app.extensions:
            prefix = current_app.config["RATELIMIT_KEY_PREFIX"]
            current_app.extensions["job_event_streams"] = StreamSlots(client, prefix)
        return current_app.extensions["job_event_streams"]
