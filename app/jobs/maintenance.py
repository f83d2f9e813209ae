"""Periodic repairs that keep jobs moving whatever happened to workers or the broker.

- Sweeper (outbox): uploads committed while the broker was down stay ``pending``;
  once it is back, they are enqueued.
- Reapers: a running chunk (or a split) whose heartbeat went silent lost its worker;
  it is requeued while attempts remain, else its job fails with ``worker_lost`` (or
  ``timeout`` if it ran into the hard time limit). A silent chunk of a job that has
  ended is marked ``cancelled``.
- Lost messages: queued jobs and pending chunks that waited REQUEUE_AFTER_SECONDS are
  looked up in the broker (app/jobs/broker_inventory.py) and published again only if
  their message is gone, so waiting work never collects duplicate messages.

Every worker runs these on a timer under a lease (app/jobs/maintenance_schedule.py),
and every step is a conditional update, so two runs at once cannot enqueue the same
job twice or fail a job that is moving.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from flask import current_app

from app.extensions import db
from app.health import check_broker
from app.jobs.broker_inventory import BrokerUnreadable, held_work
from app.jobs.processing import attempts_exhausted_message, fail_job, split_attempts_message
from app.jobs.queue import (
    PROCESS_CHUNK_TASK,
    PROCESS_JOB_TASK,
    BrokerUnavailable,
    enqueue_job,
    publish_chunks,
    publish_job,
)
from app.models import Chunk, ChunkStatus, Job, JobStatus
from app.models.base import utcnow

log = logging.getLogger(__name__)


def maintain() -> dict[str, int]:
    """Run every repair once and return how many jobs or chunks each one touched.

    While the broker is unreachable only the reapers run (what they requeue and cannot
    publish waits as pending work): the sweeper would take pending uploads to
    ``queued`` and back for nothing, and the broker cannot be searched for lost messages.
    """
    broker_up = broker_reachable()
    return {
        "pending_jobs_enqueued": enqueue_pending_jobs() if broker_up else 0,
        "stale_splits": reap_stale_splits(),
        "stale_chunks": reap_stale_chunks(),
        "lost_jobs_republished": republish_lost_jobs() if broker_up else 0,
        "lost_chunks_republished": republish_lost_chunks() if broker_up else 0,
    }


def broker_reachable() -> bool:
    try:
        check_broker(current_app.config["HEALTH_TIMEOUT_SECONDS"])
    except Exception as error:  # noqa: BLE001 - any failure means the broker cannot take work now
        log.warning("Maintenance: the broker is unreachable (%s); enqueueing waits for it", error)
        return False
    return True


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


def stale_cutoff():
    return utcnow() - timedelta(seconds=current_app.config["STALE_CHUNK_SECONDS"])


def reap_stale_splits() -> int:
    """Requeue or fail queued jobs whose split began and went silent (its process died)."""
    stale = db.session.scalars(
        db.select(Job)
        .where(Job.status == JobStatus.QUEUED, Job.heartbeat_at < stale_cutoff())
        .with_for_update(skip_locked=True)
    ).all()
    max_attempts = current_app.config["MAX_CHUNK_ATTEMPTS"]
    requeue, exhausted = [], []
    for job in stale:
        if job.attempts >= max_attempts:
            exhausted.append((job.id, job.attempts))
        else:
            job.heartbeat_at = None  # waits for its message like any queued job
            job.celery_task_id = job.celery_task_id or str(uuid.uuid4())
            requeue.append((job.id, job.celery_task_id))
    db.session.commit()
    for job_id, attempts in exhausted:
        fail_job(job_id, "worker_lost", split_attempts_message(attempts))
    _publish([(PROCESS_JOB_TASK, (job_id,), task_id) for job_id, task_id in requeue])
    if stale:
        log.warning(
            "Reaper: %d silent split(s): %d requeued, %d failed", len(stale), len(requeue), len(exhausted)
        )
    return len(stale)


def reap_stale_chunks() -> int:
    """Requeue or fail running chunks whose heartbeat went silent; cancel those of ended jobs."""
    config = current_app.config
    now = utcnow()
    stale = db.session.execute(
        db.select(Chunk, Job.status)
        .join(Job, Job.id == Chunk.job_id)
        .where(Chunk.status == ChunkStatus.RUNNING, Chunk.heartbeat_at < stale_cutoff())
        .with_for_update(of=Chunk, skip_locked=True)
    ).all()
    requeue: list[tuple[str, int]] = []
    failures: list[tuple[str, int, str, str]] = []
    for chunk, job_status in stale:
        ran_for = (now - chunk.started_at).total_seconds() if chunk.started_at else 0
        if JobStatus(job_status).is_final:
            chunk.status = ChunkStatus.CANCELLED
            chunk.finished_at = now
        elif ran_for >= config["CHUNK_HARD_TIME_LIMIT"]:
            message = f"Pages {chunk.first_page}-{chunk.last_page} ran into the hard time limit."
            failures.append((chunk.job_id, chunk.index, "timeout", message))
        elif chunk.attempts >= config["MAX_CHUNK_ATTEMPTS"]:
            failures.append((chunk.job_id, chunk.index, "worker_lost", attempts_exhausted_message(chunk)))
        else:
            chunk.status = ChunkStatus.PENDING
            chunk.heartbeat_at = now
            requeue.append((chunk.job_id, chunk.index))
    db.session.commit()
    for job_id, index, code, message in failures:
        fail_job(job_id, code, message, index)
    _publish([(PROCESS_CHUNK_TASK, work, None) for work in requeue])
    if stale:
        log.warning(
            "Reaper: %d silent chunk(s): %d requeued, %d failed, %d of ended jobs cancelled",
            len(stale), len(requeue), len(failures), len(stale) - len(requeue) - len(failures),
        )  # fmt: skip
    return len(stale)


def republish_lost_jobs() -> int:
    """Publish again the queued jobs that waited REQUEUE_AFTER_SECONDS and have no message left."""
    waiting = db.session.execute(
        db.update(Job)
        .where(Job.status == JobStatus.QUEUED, Job.heartbeat_at.is_(None), Job.updated_at < requeue_cutoff())
        .values(updated_at=utcnow())  # looked at now; looked at again after another wait
        .returning(Job.id, Job.celery_task_id)
    ).all()
    lost = _without_message({(PROCESS_JOB_TASK, (job_id,)): task_id for job_id, task_id in waiting})
    _publish([(task, args, task_id or str(uuid.uuid4())) for (task, args), task_id in lost.items()])
    return len(lost)


def republish_lost_chunks() -> int:
    """Publish again the pending chunks of running jobs that waited REQUEUE_AFTER_SECONDS and have no message."""
    running_jobs = db.select(Job.id).where(Job.status == JobStatus.PROCESSING)
    waiting = db.session.execute(
        db.update(Chunk)
        .where(
            Chunk.status == ChunkStatus.PENDING,
            Chunk.heartbeat_at < requeue_cutoff(),
            Chunk.job_id.in_(running_jobs),
        )
        .values(heartbeat_at=utcnow())
        .returning(Chunk.job_id, Chunk.index)
    ).all()
    lost = _without_message({(PROCESS_CHUNK_TASK, (job_id, index)): None for job_id, index in waiting})
    _publish([(task, args, None) for task, args in lost])
    return len(lost)


def requeue_cutoff():
    return utcnow() - timedelta(seconds=current_app.config["REQUEUE_AFTER_SECONDS"])


def _without_message(waiting: dict[tuple[str, tuple], str | None]) -> dict[tuple[str, tuple], str | None]:
    """Commit the look, then keep the waiting work whose message the broker no longer holds."""
    db.session.commit()
    if not waiting:
        return {}
    try:
        config = current_app.config
        held = held_work(
            current_app.extensions["celery"], config["CELERY_QUEUE"], config["REQUEUE_AFTER_SECONDS"]
        )
    except BrokerUnreadable as error:
        log.warning("Could not read the broker to look for lost messages: %s", error)
        return {}
    lost = {work: task_id for work, task_id in waiting.items() if work not in held}
    if lost:
        log.warning(
            "%d of %d waiting task(s) had lost their message; publishing them again", len(lost), len(waiting)
        )
    return lost


def _publish(messages: list[tuple[str, tuple, str | None]]) -> None:
    """Publish (task, args, task id) messages; those the broker refuses wait for the next run."""
    try:
        for task, args, task_id in messages:
            if task == PROCESS_JOB_TASK:
                publish_job(args[0], task_id or str(uuid.uuid4()))
            else:
                publish_chunks(args[0], [args[1]])
    except BrokerUnavailable as error:
        log.warning("Could not publish %d task(s), the next run will: %s", len(messages), error)
