"""Periodic repairs that keep jobs moving whatever happened to workers or the broker.

- Sweeper (outbox): uploads committed while the broker was down stay ``pending``;
  once it is back, they are enqueued.
- Reaper: a running chunk whose heartbeat went silent lost its worker; it is
  requeued while attempts remain, else its job fails with ``worker_lost`` (or
  ``timeout`` if it ran into the hard time limit).
- Lost messages: queued jobs and pending chunks untouched for REQUEUE_AFTER_SECONDS
  (their message vanished, e.g. Redis lost its data) are published again.

Every step is a conditional update, so two maintenance runs at once (one beat per
replica) cannot enqueue the same job twice or fail a job that is moving.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from flask import current_app

from app.extensions import db
from app.jobs.processing import attempts_exhausted_message, fail_job
from app.jobs.queue import BrokerUnavailable, enqueue_job, publish_chunks, publish_job
from app.models import Chunk, ChunkStatus, Job, JobStatus
from app.models.base import utcnow

log = logging.getLogger(__name__)


def maintain() -> dict[str, int]:
    """Run every repair once and return how many jobs or chunks each one touched."""
    return {
        "pending_jobs_enqueued": enqueue_pending_jobs(),
        "stale_chunks": reap_stale_chunks(),
        "queued_jobs_republished": republish_idle_jobs(),
        "pending_chunks_republished": republish_idle_chunks(),
    }


def enqueue_pending_jobs() -> int:
    """Enqueue uploads left pending for longer than PENDING_GRACE_SECONDS."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["PENDING_GRACE_SECONDS"])
    job_ids = db.session.scalars(
        db.select(Job.id)
        .where(Job.status == JobStatus.PENDING, Job.created_at < cutoff)
        .order_by(Job.created_at)
    ).all()
    db.session.rollback()
    return sum(enqueue_job(job_id) for job_id in job_ids)


def reap_stale_chunks() -> int:
    """Requeue or fail running chunks of running jobs whose heartbeat went silent."""
    config = current_app.config
    now = utcnow()
    stale = db.session.scalars(
        db.select(Chunk)
        .join(Job, Job.id == Chunk.job_id)
        .where(
            Job.status == JobStatus.PROCESSING,
            Chunk.status == ChunkStatus.RUNNING,
            Chunk.heartbeat_at < now - timedelta(seconds=config["STALE_CHUNK_SECONDS"]),
        )
        .with_for_update(of=Chunk, skip_locked=True)
    ).all()
    requeue: list[Chunk] = []
    failures: list[tuple[Chunk, str, str]] = []
    for chunk in stale:
        ran_for = (now - chunk.started_at).total_seconds() if chunk.started_at else 0
        if ran_for >= config["CHUNK_HARD_TIME_LIMIT"]:
            message = f"Pages {chunk.first_page}-{chunk.last_page} ran into the hard time limit."
            failures.append((chunk, "timeout", message))
        elif chunk.attempts >= config["MAX_CHUNK_ATTEMPTS"]:
            failures.append((chunk, "worker_lost", attempts_exhausted_message(chunk)))
        else:
            chunk.status = ChunkStatus.PENDING
            chunk.heartbeat_at = now
            requeue.append(chunk)
    requeued = [(chunk.job_id, chunk.index) for chunk in requeue]
    failed = [(chunk.job_id, chunk.index, code, message) for chunk, code, message in failures]
    db.session.commit()
    for job_id, index, code, message in failed:
        fail_job(job_id, code, message, index)
    _publish_chunk_list(requeued)
    if stale:
        log.warning(
            "Reaper: %d stale chunk(s): %d requeued, %d failed", len(stale), len(requeued), len(failed)
        )
    return len(stale)


def republish_idle_jobs() -> int:
    """Publish again the queued jobs whose message seems lost."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["REQUEUE_AFTER_SECONDS"])
    jobs = db.session.execute(
        db.update(Job)
        .where(Job.status == JobStatus.QUEUED, Job.updated_at < cutoff)
        .values(updated_at=utcnow())
        .returning(Job.id, Job.celery_task_id)
    ).all()
    db.session.commit()
    try:
        for job_id, task_id in jobs:
            publish_job(job_id, task_id or str(uuid.uuid4()))
    except BrokerUnavailable as error:
        log.warning("Could not republish queued jobs: %s", error)
    return len(jobs)


def republish_idle_chunks() -> int:
    """Publish again the pending chunks of running jobs whose message seems lost."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["REQUEUE_AFTER_SECONDS"])
    running_jobs = db.select(Job.id).where(Job.status == JobStatus.PROCESSING)
    chunks = db.session.execute(
        db.update(Chunk)
        .where(
            Chunk.status == ChunkStatus.PENDING, Chunk.heartbeat_at < cutoff, Chunk.job_id.in_(running_jobs)
        )
        .values(heartbeat_at=utcnow())
        .returning(Chunk.job_id, Chunk.index)
    ).all()
    db.session.commit()
    _publish_chunk_list([(job_id, index) for job_id, index in chunks])
    return len(chunks)


def _publish_chunk_list(chunks: list[tuple[str, int]]) -> None:
    try:
        for job_id, index in chunks:
            publish_chunks(job_id, [index])
    except BrokerUnavailable as error:
        # They stay pending; the next run publishes them once the broker is back.
        log.warning("Could not publish %d chunk(s): %s", len(chunks), error)
