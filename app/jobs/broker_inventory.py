"""What work the broker holds: the messages waiting in the queue and those delivered but not acknowledged.

Maintenance asks before it publishes a pending chunk or a queued job again, so a message
is republished only when it is really gone (Redis restarted without persistence, a
worker died between taking a message and marking its chunk running), never just
because the work has waited long behind busy workers. Without this check each wait
would add a message, and a long queue would grow with every maintenance run.

Reads the transports' own storage: Redis lists and the ``unacked`` hash (kombu's Redis
transport), or message files (the filesystem transport of the local default).
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from celery import Celery

log = logging.getLogger(__name__)

# (task name, positional arguments) of one message.
Work = tuple[str, tuple]

REDIS_PAGE = 1000  # list entries read per round trip


class BrokerUnreadable(Exception):
    """The broker could not be read; nothing can be said about what it holds."""


def held_work(celery_app: Celery, queue: str, taken_within: float) -> Counter[Work]:
    """Count the messages of each piece of work on ``queue``: waiting, or taken by a worker in the last seconds.

    A worker takes a message only when a process is free and marks its chunk running at
    once (or, for a retry, within MAX_RETRY_COUNTDOWN); a message taken longer than
    ``taken_within`` ago whose work still waits was taken by a worker that died, and
    stays unacknowledged in Redis until its visibility timeout: it does not count.
    """
    try:
        with celery_app.connection_for_read() as connection:
            channel = connection.default_channel
            if connection.transport.driver_type == "redis":
                payloads = _redis_payloads(channel, queue, taken_within)
            elif connection.transport.driver_type == "filesystem":
                payloads = _filesystem_payloads(Path(channel.data_folder_in), queue)
            else:
                raise BrokerUnreadable(f"cannot read a {connection.transport.driver_type} broker")
            return Counter(work for work in map(_work_of, payloads) if work is not None)
    except BrokerUnreadable:
        raise
    except Exception as error:  # noqa: BLE001 - any transport failure means "unknown"
        raise BrokerUnreadable(str(error)) from error


def _redis_payloads(channel: object, queue: str, taken_within: float) -> Iterator[bytes]:
    client = channel.client  # type: ignore[attr-defined]
    for priority in channel.priority_steps:  # type: ignore[attr-defined]
        key = channel._q_for_pri(queue, priority)  # type: ignore[attr-defined]
        start = 0
        while batch := client.lrange(key, start, start + REDIS_PAGE - 1):
            yield from batch
            start += REDIS_PAGE
    # kombu indexes each unacknowledged message by the time a worker took it.
    taken = client.zrangebyscore(channel.unacked_index_key, time.time() - taken_within, "+inf")  # type: ignore[attr-defined]
    for entry in client.hmget(channel.unacked_key, taken) if taken else []:  # type: ignore[attr-defined]
        # Each entry is [message, exchange, routing key].
        message = _json(entry)
        if isinstance(message, list) and message:
            yield json.dumps(message[0])


def _filesystem_payloads(folder: Path, queue: str) -> Iterator[bytes]:
    for path in folder.glob(f"*.{queue}.msg"):
        try:
            yield path.read_bytes()
        except OSError:  # taken by a worker meanwhile
            continue


def _work_of(payload: bytes | str) -> Work | None:
    message = _json(payload)
    if not isinstance(message, dict):
        return None
    task = (message.get("headers") or {}).get("task")
    body = message.get("body", "")
    if (message.get("properties") or {}).get("body_encoding") == "base64":
        body = base64.b64decode(body)
    body = _json(body)
    if not task or not isinstance(body, list) or not body or not isinstance(body[0], list):
        return None
    return task, tuple(body[0])


def _json(raw: bytes | str) -> object:
    try:
        return json.loads(raw)
    except (ValueError, TypeError):
        return None
