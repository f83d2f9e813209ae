"""Celery tasks: thin wrappers that take ids, call the job domain and record failures."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from celery.exceptions import MaxRetriesExceededError, SoftTimeLimitExceeded
from flask import current_app
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import SQLAlchemyError

from app.database import is_transient
from app.extensions import db
from app.jobs.heartbeat import ChunkHeartbeat
from app.jobs.maintenance import maintain
from app.jobs.processing import (
    ChunkStopped,
    analyze_chunk,
    begin_chunk,
    complete_chunk,
    fail_job,
    release_chunk,
    start_job,
)
from app.jobs.queue import MAINTAIN_TASK, PROCESS_CHUNK_TASK, PROCESS_JOB_TASK, publish_chunks
from app.pdf import PdfError

log = logging.getLogger(__name__)


def discard_session() -> None:
    """Roll back, even on a connection that is already gone: the error being handled matters more."""
    try:
        db.session.rollback()
    except SQLAlchemyError as error:
        log.warning("Rollback failed (%s); dropping the session", error)
        db.session.remove()


def retry_or_fail(task: Task, job_id: str, error: Exception, chunk_index: int | None = None) -> None:
    """Retry a transient failure with exponential backoff; fail the job once retries run out."""
    discard_session()
    transient = isinstance(error, BrokerError) or (isinstance(error, SQLAlchemyError) and is_transient(error))
    if transient:
        try:
            raise task.retry(exc=error, countdown=2**task.request.retries)
        except MaxRetriesExceededError:
            pass
    code = "service_unavailable" if transient else "internal_error"
    log.exception("Job %s: unexpected error", job_id, exc_info=error)
    fail_job(job_id, code, "Processing failed on our side; retry the upload later.", chunk_index)


@shared_task(bind=True, name=PROCESS_JOB_TASK, max_retries=3)
def process_job(self: Task, job_id: str) -> None:
    """Split a job into chunks and fan them out, one task per chunk."""
    try:
        publish_chunks(job_id, start_job(job_id))
    except SoftTimeLimitExceeded:
        db.session.rollback()
        fail_job(job_id, "timeout", "Splitting the PDF took longer than the time limit.")
    except Exception as error:  # noqa: BLE001 - recorded on the job, never swallowed
        retry_or_fail(self, job_id, error)


@shared_task(bind=True, name=PROCESS_CHUNK_TASK, max_retries=3)
def process_chunk(self: Task, job_id: str, index: int) -> None:
    """Process one chunk of pages and record its results."""
    try:
        redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
        pages = begin_chunk(job_id, index, redelivered)
        if pages is None:
            return
        with ChunkHeartbeat(job_id, index, current_app.config["HEARTBEAT_SECONDS"]) as heartbeat:
            output = analyze_chunk(job_id, index, *pages, should_stop=heartbeat.job_stopped.is_set)
        complete_chunk(job_id, index, output)
    except ChunkStopped:
        log.info("Job %s stopped; chunk %d gave up its pages", job_id, index)
        release_chunk(job_id, index)
    except SoftTimeLimitExceeded:
        db.session.rollback()
        limit = self.app.conf.task_soft_time_limit
        message = f"Chunk {index + 1} took longer than the {limit} s time limit."
        fail_job(job_id, "timeout", message, index)
    except PdfError as error:
        db.session.rollback()
        fail_job(job_id, error.code, str(error), index)
    except Exception as error:  # noqa: BLE001 - recorded on the job, never swallowed
        retry_or_fail(self, job_id, error, index)


@shared_task(name=MAINTAIN_TASK, ignore_result=True, acks_late=False)
def run_maintenance() -> dict[str, int]:
    """Sweep pending uploads, reap stale chunks, republish lost messages."""
    return maintain()
