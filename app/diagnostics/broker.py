"""Checks of Redis and the Celery workers that consume the queue."""

from __future__ import annotations

import redis
from celery import Celery

from app.diagnostics.results import CheckResult, Context, describe, failed, passed, skipped, warned

# Celery's Redis transport keeps priorities 3, 6 and 9 in lists next to the queue's own.
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)
PING_SECONDS = 2.0
PING_ROUNDS = 3


def redis_client(context: Context) -> redis.Redis:
    return redis.Redis.from_url(
        context.config.REDIS_URL, socket_timeout=context.timeout, socket_connect_timeout=context.timeout
    )


def check_redis(context: Context) -> CheckResult:
    """Redis answers; report its version, memory and eviction policy."""
    if not context.config.REDIS_URL:
        return failed(
            "redis", "REDIS_URL is not set", "Set REDIS_URL to the Redis broker (redis://host:6379/0)."
        )
    client = redis_client(context)
    try:
        server = client.info("server")
        memory = client.info("memory")
    except redis.RedisError as error:
        return failed(
            "redis",
            describe(error),
            "Check REDIS_URL (host, port, password, database; rediss:// for TLS) and that Redis is running.",
        )
    finally:
        client.close()
    context.redis_ok = True
    policy = memory.get("maxmemory_policy", "unknown")
    detail = f"Redis {server['redis_version']}, {memory['used_memory_human']} used, maxmemory-policy {policy}"
    if policy != "noeviction":
        return warned(
            "redis",
            detail,
            "Set maxmemory-policy noeviction: an evicting Redis drops queued tasks when memory runs out.",
        )
    return passed("redis", detail)


def check_queue(context: Context) -> CheckResult:
    """Report how many tasks wait in the Celery queue."""
    if not context.redis_ok:
        return skipped("queue", "Redis is unreachable")
    queue = context.config.CELERY_QUEUE
    keys = [queue] + [f"{queue}{PRIORITY_SEPARATOR}{step}" for step in PRIORITY_STEPS]
    client = redis_client(context)
    try:
        waiting = sum(client.llen(key) for key in keys)
        unacked = client.hlen("unacked")
    finally:
        client.close()
    return passed("queue", f"{waiting} task(s) waiting in {queue!r}; {unacked} delivered but unacknowledged")


def find_consumers(celery: Celery, queue: str) -> tuple[list[str], list[str]]:
    """Return the workers that answered and those consuming the queue; ask again if none consume.

    A busy worker can miss one broadcast's reply window, so one silent round is not proof.
    """
    answered: list[str] = []
    for _ in range(PING_ROUNDS):
        queues = celery.control.inspect(timeout=PING_SECONDS).active_queues() or {}
        answered = list(queues)
        consuming = [name for name, active in queues.items() if any(q["name"] == queue for q in active)]
        if consuming:
            return answered, consuming
    return answered, []


def check_workers(context: Context) -> CheckResult:
    """At least one Celery worker consumes the queue and answers a ping."""
    if not context.redis_ok:
        return skipped("workers", "Redis is unreachable")
    queue = context.config.CELERY_QUEUE
    celery = Celery("docjobs-troubleshoot")
    celery.config_from_object(context.config.CELERY)
    try:
        answered, consuming = find_consumers(celery, queue)
        concurrency = 0
        if consuming:
            inspect = celery.control.inspect(
                destination=consuming, timeout=PING_SECONDS, limit=len(consuming)
            )
            stats = inspect.stats() or {}
            concurrency = sum(worker["pool"].get("max-concurrency", 0) for worker in stats.values())
    finally:
        celery.close()
    if not consuming:
        others = f" ({len(answered)} worker(s) answered, on other queues)" if answered else ""
        return failed(
            "workers",
            f"no worker consumes {queue!r} and answers a ping{others}",
            "Start a worker (`celery -A celery_worker.celery worker`) with the same REDIS_URL and"
            " CELERY_QUEUE, and check its logs for start-up errors.",
        )
    return passed("workers", f"{len(consuming)} worker(s) on {queue!r}, {concurrency} process(es) in all")
