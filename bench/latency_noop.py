"""A throw-away Celery app with one no-op task, to time a bare round trip on the bench broker.

Worker: ``celery -A bench.latency_noop worker``. It shares the platform's Redis database
but has a queue of its own, and keeps its results on Redis, which the platform does not.
"""

from __future__ import annotations

from celery import Celery

from bench.services import BENCH_QUEUE, BENCH_REDIS_URL

NOOP_QUEUE = f"{BENCH_QUEUE}-noop"
NOOP_TASK = "bench.noop"

celery = Celery("bench_latency_noop", broker=BENCH_REDIS_URL, backend=BENCH_REDIS_URL)
celery.conf.update(
    task_default_queue=NOOP_QUEUE,
    # The platform's delivery settings, so the round trip takes the same path through the broker.
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    broker_transport_options={"socket_timeout": 10},
    task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
    result_expires=600,
)


@celery.task(name=NOOP_TASK)
def noop() -> None:
    """Do nothing."""
