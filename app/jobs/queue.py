"""Publish work to the Celery queue, by task name, through the current app's Celery."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from kombu.exceptions import OperationalError

PROCESS_JOB_TASK = "docjobs.process_job"
PROCESS_CHUNK_TASK = "docjobs.process_chunk"
MAINTAIN_TASK = "docjobs.maintain"

# What a publish raises while the broker is unreachable.
BrokerUnavailable = (OperationalError, OSError)


def publish_job(job_id: str, task_id: str) -> None:
    """Queue the task that splits a job into chunks."""
    current_app.extensions["celery"].send_task(PROCESS_JOB_TASK, args=(job_id,), task_id=task_id)


def publish_chunks(job_id: str, indexes: Iterable[int]) -> None:
    """Queue one task per chunk index."""
    celery = current_app.extensions["celery"]
    for index in indexes:
        celery.send_task(PROCESS_CHUNK_TASK, args=(job_id, index))
