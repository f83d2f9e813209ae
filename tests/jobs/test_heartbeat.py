"""Running chunks beat from a thread and stop at a page boundary once their job stops."""

from __future__ import annotations

import secrets
import time

import pytest

from app.extensions import db
from app.jobs.heartbeat import Heartbeat
from app.jobs.processing import ChunkStopped, analyze_chunk, begin_chunk, start_job
from app.jobs.uploads import create_job
from app.models import Chunk, Job, User


@pytest.fixture
def running_chunk(app_context, shared_pdfs) -> tuple[str, int]:
    user = User(email=f"beat-{secrets.token_hex(4)}@example.com", password_hash="x")
    db.session.add(user)
    db.session.commit()
    job_id = create_job(user.id, "tracemonkey.pdf", (shared_pdfs / "pdfjs__tracemonkey.pdf").read_bytes()).id
    db.session.get(Job, job_id).status = "queued"
    db.session.commit()
    start_job(job_id)
    assert begin_chunk(job_id, 0) is not None
    return job_id, 0


def heartbeat_at(job_id: str, index: int):
    db.session.expire_all()
    return db.session.scalar(
        db.select(Chunk.heartbeat_at).where(Chunk.job_id == job_id, Chunk.index == index)
    )


def wait_until(condition, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_heartbeat_advances_while_the_chunk_runs(running_chunk):
    job_id, index = running_chunk
    first = heartbeat_at(job_id, index)
    with Heartbeat(job_id, index, interval=0.05) as heartbeat:
        assert wait_until(lambda: heartbeat_at(job_id, index) > first)
        assert not heartbeat.job_stopped.is_set()


def test_heartbeat_notices_a_cancelled_job_and_the_chunk_stops_at_a_page_boundary(running_chunk):
    job_id, index = running_chunk
    with Heartbeat(job_id, index, interval=0.05) as heartbeat:
        db.session.get(Job, job_id).status = "cancelled"
        db.session.commit()
        assert wait_until(heartbeat.job_stopped.is_set)
        with pytest.raises(ChunkStopped, match="page 1"):
            analyze_chunk(job_id, index, 1, 3, should_stop=heartbeat.job_stopped.is_set)


def test_a_split_in_progress_beats_on_its_job_so_the_reaper_leaves_it_alone(app_context, shared_pdfs):
    user = User(email=f"beat-{secrets.token_hex(4)}@example.com", password_hash="x")
    db.session.add(user)
    db.session.commit()
    job_id = create_job(user.id, "tracemonkey.pdf", (shared_pdfs / "pdfjs__tracemonkey.pdf").read_bytes()).id

    def split_beat():
        db.session.expire_all()
        return db.session.get(Job, job_id).heartbeat_at

    assert split_beat() is None
    with Heartbeat(job_id, None, interval=0.05) as heartbeat:
        assert wait_until(lambda: split_beat() is not None)
        first = split_beat()
        assert wait_until(lambda: split_beat() > first)
        assert not heartbeat.job_stopped.is_set()
