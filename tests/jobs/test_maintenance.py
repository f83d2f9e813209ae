"""The sweeper, the reaper and the attempt cap, run directly against real PostgreSQL and Redis."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from app.jobs.broker_inventory import held_work
from app.jobs.maintenance import enqueue_pending_jobs, maintain, reap_stale_chunks, republish_lost_chunks
from app.jobs.processing import begin_chunk, start_job
from app.jobs.queue import PROCESS_CHUNK_TASK, publish_chunks
from app.jobs.uploads import create_job
from app.models import Chunk, Job, User
from app.models.base import utcnow
from bench.textpdf import make_text_pdf
from config import TestConfig
from tests.support import RUN_ID, admin_execute, database_url


@pytest.fixture(scope="module")
def quiet_database() -> Iterator[str]:
    """A database of this module's own: the session's workers run maintenance on the shared one."""
    name = f"docjobs_maintenance_{RUN_ID}"
    admin_execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(name)
    finally:
        admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def app(quiet_database, monkeypatch):
    """The app on its own database, publishing to a queue no worker consumes: nothing races the assertions."""
    monkeypatch.setenv("DATABASE_URL", quiet_database)
    monkeypatch.setenv("CELERY_QUEUE", f"unconsumed-{secrets.token_hex(3)}")
    quiet = create_app(TestConfig())
    with quiet.app_context():
        upgrade()
        yield quiet
        db.engine.dispose()


@pytest.fixture
def job_id(app, shared_pdfs) -> str:
    user = User(email=f"maint-{secrets.token_hex(4)}@example.com", password_hash="x")
    db.session.add(user)
    db.session.commit()
    return create_job(user.id, "tracemonkey.pdf", (shared_pdfs / "pdfjs__tracemonkey.pdf").read_bytes()).id


def age(model, key, **columns_seconds_ago) -> None:
    """Move timestamps into the past, as time passing would."""
    values = {name: utcnow() - timedelta(seconds=seconds) for name, seconds in columns_seconds_ago.items()}
    db.session.execute(db.update(model).where(*key).values(**values))
    db.session.commit()


def chunk(job_id: str, index: int) -> Chunk:
    db.session.expire_all()
    return db.session.execute(
        db.select(Chunk).where(Chunk.job_id == job_id, Chunk.index == index)
    ).scalar_one()


def job(job_id: str) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def test_sweeper_enqueues_pending_uploads_after_the_grace_period(job_id):
    enqueue_pending_jobs()
    assert job(job_id).status == "pending"  # too young yet: its own enqueue may still come
    age(Job, [Job.id == job_id], created_at=60)

    enqueue_pending_jobs()
    assert job(job_id).status == "queued"
    assert job(job_id).celery_task_id


def test_reaper_requeues_a_silent_chunk_while_attempts_remain(job_id):
    job(job_id).status = "queued"
    db.session.commit()
    start_job(job_id)
    assert begin_chunk(job_id, 1) is not None
    age(Chunk, [Chunk.job_id == job_id, Chunk.index == 1], heartbeat_at=3600)

    assert reap_stale_chunks() >= 1
    reaped = chunk(job_id, 1)
    assert (reaped.status, reaped.attempts) == ("pending", 1)
    assert job(job_id).status == "processing"


def test_reaper_fails_the_job_when_attempts_are_used_up(job_id, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CHUNK_ATTEMPTS", 2)
    job(job_id).status = "queued"
    db.session.commit()
    start_job(job_id)
    for _ in range(2):
        assert begin_chunk(job_id, 0) is not None
        age(Chunk, [Chunk.job_id == job_id, Chunk.index == 0], heartbeat_at=3600)  # its process died

    reap_stale_chunks()
    failed = job(job_id)
    assert failed.status == "failed"
    assert failed.error_code == "worker_lost"
    assert "2 times" in failed.error_message


def test_reaper_reports_a_chunk_killed_at_the_hard_limit_as_timeout(job_id, app):
    job(job_id).status = "queued"
    db.session.commit()
    start_job(job_id)
    begin_chunk(job_id, 2)
    hard = app.config["CHUNK_HARD_TIME_LIMIT"]
    age(Chunk, [Chunk.job_id == job_id, Chunk.index == 2], started_at=hard + 5, heartbeat_at=3600)

    reap_stale_chunks()
    assert (job(job_id).status, job(job_id).error_code) == ("failed", "timeout")


def test_a_chunk_past_its_attempts_fails_the_job_when_redelivered(job_id, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CHUNK_ATTEMPTS", 1)
    job(job_id).status = "queued"
    db.session.commit()
    start_job(job_id)
    assert begin_chunk(job_id, 0) is not None  # the run that crashed its process
    assert begin_chunk(job_id, 0) is None  # a duplicate message while it still beats: left alone
    assert job(job_id).status == "processing"
    age(Chunk, [Chunk.job_id == job_id, Chunk.index == 0], heartbeat_at=3600)

    assert begin_chunk(job_id, 0) is None  # the redelivered message, once the heartbeat is silent
    assert (job(job_id).status, job(job_id).error_code) == ("failed", "worker_lost")


def test_pending_chunks_whose_message_was_lost_are_published_again(job_id, app):
    job(job_id).status = "queued"
    db.session.commit()
    start_job(job_id)
    age(Chunk, [Chunk.job_id == job_id], heartbeat_at=app.config["REQUEUE_AFTER_SECONDS"] + 60)

    assert republish_lost_chunks() == 5
    assert republish_lost_chunks() == 0  # looked at once per wait, not every run
    age(Chunk, [Chunk.job_id == job_id], heartbeat_at=app.config["REQUEUE_AFTER_SECONDS"] + 60)
    assert republish_lost_chunks() == 0  # still waiting, but their messages are in the queue now


def test_a_redelivered_message_takes_over_its_running_chunk_at_once(job_id):
    job(job_id).status = "queued"
    db.session.commit()
    start_job(job_id)
    assert begin_chunk(job_id, 3) is not None  # its worker shut down before acknowledging

    assert begin_chunk(job_id, 3) is None  # a republished copy leaves the live run alone
    assert begin_chunk(job_id, 3, redelivered=True) is not None
    assert chunk(job_id, 3).attempts == 2


def broker_messages(app, job_id: str) -> dict[int, int]:
    """How many messages the broker holds for each chunk of the job."""
    held = held_work(app.extensions["celery"], app.config["CELERY_QUEUE"], taken_within=3600)
    return {
        args[1]: count
        for (task, args), count in held.items()
        if task == PROCESS_CHUNK_TASK and args[0] == job_id
    }


def test_a_hundred_chunk_job_waiting_for_minutes_keeps_one_message_a_chunk(app):
    user = User(email=f"maint-{secrets.token_hex(4)}@example.com", password_hash="x")
    db.session.add(user)
    db.session.commit()
    job_id = create_job(user.id, "long.pdf", make_text_pdf(300, chars_per_page=200)).id
    job(job_id).status = "queued"
    db.session.commit()
    indexes = start_job(job_id)
    assert len(indexes) == 100
    publish_chunks(job_id, indexes)  # as the job task does; no worker takes them here

    for _ in range(10):  # ten waits of REQUEUE_AFTER_SECONDS behind busy workers
        age(Chunk, [Chunk.job_id == job_id], heartbeat_at=app.config["REQUEUE_AFTER_SECONDS"] + 1)
        assert republish_lost_chunks() == 0
    assert broker_messages(app, job_id) == dict.fromkeys(indexes, 1)

    queue = app.extensions["celery"].connection_for_write().default_channel.client
    queue.delete(app.config["CELERY_QUEUE"])  # Redis restarted without its data
    age(Chunk, [Chunk.job_id == job_id], heartbeat_at=app.config["REQUEUE_AFTER_SECONDS"] + 1)
    assert republish_lost_chunks() == 100
    age(Chunk, [Chunk.job_id == job_id], heartbeat_at=app.config["REQUEUE_AFTER_SECONDS"] + 1)
    assert republish_lost_chunks() == 0
    assert broker_messages(app, job_id) == dict.fromkeys(indexes, 1)


def test_a_chunk_whose_message_a_dead_worker_took_is_published_again(app, job_id):
    job(job_id).status = "queued"
    db.session.commit()
    start_job(job_id)
    publish_chunks(job_id, [1])
    celery = app.extensions["celery"]
    with celery.connection_for_read() as connection:
        taken = connection.SimpleQueue(app.config["CELERY_QUEUE"]).get(timeout=5)  # never acknowledged
        assert broker_messages(app, job_id) == {1: 1}  # just taken: its worker is about to run it
        channel = connection.default_channel
        # The worker that took it died a day ago: its message sits unacknowledged in Redis.
        channel.client.zadd(channel.unacked_index_key, {taken.delivery_tag: time.time() - 86400})
        age(Chunk, [Chunk.job_id == job_id], heartbeat_at=app.config["REQUEUE_AFTER_SECONDS"] + 60)

        assert republish_lost_chunks() == 5
        assert broker_messages(app, job_id) == dict.fromkeys(range(5), 1)


def test_maintenance_leaves_pending_uploads_alone_while_the_broker_is_down(app, job_id, monkeypatch):
    age(Job, [Job.id == job_id], created_at=60)
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there

    assert maintain()["pending_jobs_enqueued"] == 0
    assert job(job_id).status == "pending"
