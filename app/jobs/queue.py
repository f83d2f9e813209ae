"""Publish work to the Celery queue, by task name, through the current app's Celery.

A job row is committed before its task is published, and moves from ``pending`` to
``queued`` only through ``enqueue_job``: if the broker is down the job stays
``pending`` and the sweeper (app/jobs/maintenance.py) publishes it later.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from flask import current_app
from kombu.exceptions import OperationalError

from app.database import safe_commit
from app.extensions import db
from app.models import Job, JobStatus
from app.observability.context import job_context

log = logging.getLogger(__name__)

PROCESS_JOB_TASK = "docjobs.process_job"
PROCESS_CHUNK_TASK = "docjobs.process_chunk"

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


def claim_pending_job(job_id: str) -> str | None:
    """Move a pending job to queued with a fresh task id; None if someone else moved it."""
    task_id = str(uuid.uuid4())
    claimed = db.session.execute(
        db.update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.PENDING)
        .values(status=JobStatus.QUEUED, celery_task_id=task_id, current_step="Queued")
    )
    return task_id if claimed.rowcount else None


def enqueue_job(job_id: str) -> bool:
    """Publish a pending job; if the broker is down it stays pending for the sweeper."""
    task_id = safe_commit(lambda: claim_pending_job(job_id))
    if task_id is None:
        return False
    with job_context(job_id):
        try:
            publish_job(job_id, task_id)
        except BrokerUnavailable as error:
            log.warning("Could not enqueue job %s, it stays pending: %s", job_id, error)
            safe_commit(lambda: _unclaim(job_id, task_id))
            return False
        log.info("Job %s queued", job_id)
    return True


def _unclaim(job_id: str, task_id: str) -> None:
    db.session.execute(
        db.update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED, Job.celery_task_id == task_id)
        .values(status=JobStatus.PENDING, celery_task_id=None, current_step="Waiting for the queue")
    )
