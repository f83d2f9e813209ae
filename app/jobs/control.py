"""Cancel, retry and delete a job on its owner's request.

Each change is a conditional update on the job's status, so it races safely with
workers that finish, fail or advance the same job at the same moment.
"""

from __future__ import annotations

import logging

from app.database import safe_commit
from app.errors import ApiError
from app.extensions import db
from app.jobs.processing import locked_job
from app.jobs.queue import BrokerUnavailable, enqueue_job, publish_chunks
from app.jobs.quotas import claim_job_slot
from app.models import Chunk, ChunkStatus, Document, Job, JobStatus, Sentence
from app.models.base import utcnow

log = logging.getLogger(__name__)

LIVE_STATUSES = (JobStatus.PENDING, JobStatus.QUEUED, JobStatus.PROCESSING)


def cancel_job(job: Job) -> None:
    """Cancel a live job: workers skip its queued chunks and stop running ones at a page boundary."""
    if not stop_job(job.id):
        raise ApiError(
            "job_not_cancellable",
            f"The job has already ended ({job.status}); only live jobs can be cancelled.",
            409,
        )


def stop_job(job_id: str) -> bool:
    """Mark a job and its waiting chunks cancelled unless it has already ended; tell whether it was live.

    Running chunks notice at their next beat and mark themselves cancelled.
    """
    statement = (
        db.update(Job)
        .where(Job.id == job_id, Job.status.in_(LIVE_STATUSES))
        .values(
            status=JobStatus.CANCELLED,
            current_step="Cancelled",
            finished_at=utcnow(),
            error_code=None,
            error_message=None,
        )
    )
    waiting_chunks = (
        db.update(Chunk)
        .where(Chunk.job_id == job_id, Chunk.status == ChunkStatus.PENDING)
        .values(status=ChunkStatus.CANCELLED, finished_at=utcnow())
    )

    def apply() -> bool:
        if db.session.execute(statement).rowcount == 0:
            return False
        db.session.execute(waiting_chunks)
        return True

    return safe_commit(apply)


def retry_job(job: Job) -> None:
    """Run a failed job again: only its unfinished chunks, or the whole job if it failed before splitting.

    If the broker is down the work stays recorded (a pending job, pending chunks) and
    the maintenance task publishes it later, as it does for uploads. The job becomes
    active again, so it must fit its owner's limits (app/jobs/quotas.py) as an upload does.
    """
    job_id, owner_id = job.id, job.owner_id

    def reopen() -> list[int] | None:
        if job.status == JobStatus.FAILED:
            claim_job_slot(owner_id, 0)  # the user's row first: the lock order of uploads
        return reopen_failed_job(job_id)

    try:
        indexes = safe_commit(reopen)
    except ApiError:
        db.session.rollback()
        raise
    if indexes is None:
        raise ApiError(
            "job_not_retryable",
            f"Only failed jobs can be retried; this one is {job.status}. "
            "To process a file again, upload it with force=true.",
            409,
        )
    if job.total_chunks == 0:
        enqueue_job(job_id)
        return
    try:
        publish_chunks(job_id, indexes)
    except BrokerUnavailable as error:
        log.warning("Could not publish the retried chunks of job %s; maintenance will: %s", job_id, error)


def reopen_failed_job(job_id: str) -> list[int] | None:
    """Put a failed job back to work and return the chunk indexes to run; None if it is not failed."""
    job = locked_job(job_id)
    if job is None or job.status != JobStatus.FAILED:
        return None
    job.error_code = job.error_message = job.finished_at = job.heartbeat_at = None
    if job.total_chunks == 0:
        job.attempts = 0
        job.status = JobStatus.PENDING
        job.current_step = "Waiting for the queue"
        return []
    indexes = reset_unfinished_chunks(job_id)
    job.status = JobStatus.PROCESSING
    job.completed_chunks = job.total_chunks - len(indexes)
    job.progress_percent = job.completed_chunks * 100 // job.total_chunks
    job.current_step = f"Retrying {len(indexes)} of {job.total_chunks} chunks"
    return indexes


def reset_unfinished_chunks(job_id: str) -> list[int]:
    """Make every chunk of the job that has not completed pending again, with fresh attempts."""
    indexes = db.session.scalars(
        db.update(Chunk)
        .where(Chunk.job_id == job_id, Chunk.status != ChunkStatus.COMPLETED)
        .values(
            status=ChunkStatus.PENDING,
            attempts=0,
            error_code=None,
            finished_at=None,
            heartbeat_at=utcnow(),  # the reaper republishes pending chunks whose heartbeat grows old
        )
        .returning(Chunk.index)
    )
    return sorted(indexes)


def delete_job(job: Job) -> None:
    """Delete a job with its document and results, cancelling it first so its workers let go."""
    job_id = job.id
    stop_job(job_id)
    safe_commit(lambda: delete_job_rows(job_id))


def delete_job_rows(job_id: str) -> None:
    """Delete the job's rows, children first: SQLite ignores ON DELETE CASCADE without a pragma."""
    for model in (Sentence, Chunk, Document):
        db.session.execute(db.delete(model).where(model.job_id == job_id))
    db.session.execute(db.delete(Job).where(Job.id == job_id))
