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
from app.jobs.heartbeat import Heartbeat
from app.jobs.processing import (
    ChunkStopped,
    analyze_chunk,
    begin_chunk,
    complete_chunk,
    fail_job,
    release_chunk,
    start_job,
    stop_chunk,
)
from app.jobs.queue import PROCESS_CHUNK_TASK, PROCESS_JOB_TASK, publish_chunks
from app.pdf import PdfError

log = logging.getLogger(__name__)


def discard_session() -> None:
    """Roll back, even on a connection that is already gone: the error being handled matters more."""
    try:
        db.session.rollback()
    except SQLAlchemyError as error:
        log.warning("Rollback failed (%s); dropping the session", error)
        db.session.remove()


def give_back_chunk(job_id: str, index: int) -> None:
    """Mark a chunk pending again before its task is retried; the reaper covers a failure here."""
    try:
        release_chunk(job_id, index)
    except SQLAlchemyError as error:
        discard_session()
        log.warning("Could not release chunk %d of job %s before retrying: %s", index, job_id, error)


def retry_or_fail(task: Task, job_id: str, error: Exception, chunk_index: int | None = None) -> None:
    """Retry a transient failure with exponential backoff; fail the job once retries run out."""
    discard_session()
    transient = isinstance(error, BrokerError) or (isinstance(error, SQLAlchemyError) and is_transient(error))
    if transient:
        if chunk_index is not None:
            give_back_chunk(job_id, chunk_index)
        try:
            raise task.retry(exc=error, countdown=2**task.request.retries)
        except MaxRetriesExceededError:
            pass
    code = "service_unavailable" if transient else "internal_error"
    log.exception("Job %s: unexpected error", job_id, exc_info=error)
    fail_job(job_id, code, "Processing failed on our side; retry the upload later.", chunk_index)


@shared_task(bind=True, name=PROCESS_JOB_TASK, max_retries=3)
def process_job(self: Task, job_id: str) -> None:
    """Split a job into chunks, fan out all but the first, and process the first here.

    Keeping the first chunk saves a queue round trip and a second read of the PDF,
    so a one-chunk job is done in a single task.
    """
    redelivered = was_redelivered(self)
    try:
        indexes = start_job(job_id, redelivered)
        publish_chunks(job_id, indexes[1:])
    except SoftTimeLimitExceeded:
        db.session.rollback()
        fail_job(job_id, "timeout", "Splitting the PDF took longer than the time limit.")
        return
    except Exception as error:  # noqa: BLE001 - recorded on the job, never swallowed
        retry_or_fail(self, job_id, error)
        return
    if indexes:
        run_chunk(self, job_id, indexes[0], redelivered)


@shared_task(bind=True, name=PROCESS_CHUNK_TASK, max_retries=3)
def process_chunk(self: Task, job_id: str, index: int) -> None:
    """Process one chunk of pages and record its results."""
    run_chunk(self, job_id, index, was_redelivered(self))


def was_redelivered(task: Task) -> bool:
    """Tell whether the broker hands this message out again because its last run ended early."""
    return bool((task.request.delivery_info or {}).get("redelivered"))


def run_chunk(task: Task, job_id: str, index: int, redelivered: bool) -> None:
    """Run one chunk inside a task, recording every way it can end on the job."""
    try:
        pages = begin_chunk(job_id, index, redelivered)
        if pages is None:
            return
        with Heartbeat(job_id, index, current_app.config["HEARTBEAT_SECONDS"]) as heartbeat:
            output = analyze_chunk(job_id, index, *pages, should_stop=heartbeat.job_stopped.is_set)
        if not complete_chunk(job_id, index, output):
            stop_chunk(job_id, index)  # its job ended meanwhile (or another run completed it)
    except ChunkStopped:
        log.info("Job %s ended; chunk %d stopped", job_id, index)
        stop_chunk(job_id, index)
    except SoftTimeLimitExceeded:
        db.session.rollback()
        limit = task.app.conf.task_soft_time_limit
        message = f"Chunk {index + 1} took longer than the {limit} s time limit."
        fail_job(job_id, "timeout", message, index)
    except PdfError as error:
        db.session.rollback()
        fail_job(job_id, error.code, str(error), index)
    except Exception as error:  # noqa: BLE001 - recorded on the job, never swallowed
        retry_or_fail(task, job_id, error, index)
