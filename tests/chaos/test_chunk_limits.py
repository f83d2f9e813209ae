"""A chunk that runs too long, hangs, keeps killing its worker or is delivered twice.

Every job here is one slow chunk: ten pages (one chunk at the default CHUNK_PAGES), each
of which holds pdfium for about half a second, within the limits on text and memory.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.chaos.probes import Database
from tests.chaos.processes import is_alive, kill_worker_outright, pid_running_chunk
from tests.chaos.servers import wait_until
from tests.hostile.pdfs import slow_text_pages

STALE_SECONDS = 3  # the stack's STALE_CHUNK_SECONDS
MAINTENANCE_SECONDS = 1  # the stack's MAINTENANCE_INTERVAL_SECONDS
WORKER_START_SECONDS = 3  # generous: a worker is ready in about one second


@pytest.fixture(scope="module")
def slow_pdf() -> bytes:
    return slow_text_pages(10)


def chunk_running(database: Database, job_id: str, attempt: int) -> bool:
    """The job's only chunk is running its `attempt`-th attempt."""
    found = database.rows("SELECT status, attempts FROM chunks WHERE job_id = %s AND index = 0", job_id)
    return bool(found) and (found[0].status, found[0].attempts) == ("running", attempt)


def wait_for_attempt(database: Database, job_id: str, attempt: int) -> None:
    wait_until(
        lambda: chunk_running(database, job_id, attempt), 15, f"attempt {attempt} of job {job_id} runs"
    )


def running_pid(stack, job_id: str) -> int:
    """The pool process that runs the job's chunk, as the worker reports it."""
    pid = None

    def reported() -> bool:
        nonlocal pid
        pid = pid_running_chunk(stack.env["REDIS_URL"], job_id, 0)
        return pid is not None

    wait_until(reported, 15, f"the worker reports running job {job_id}'s chunk", interval=0)
    return pid


def assert_failed_without_sentences(database: Database, job_id: str, code: str) -> None:
    job = database.job(job_id)
    assert (job.status, job.error_code, job.completed_chunks) == ("failed", code, 0), job
    [chunk] = database.chunks(job_id)
    assert (chunk.status, chunk.error_code) == ("failed", code), chunk
    assert database.value("SELECT count(*) FROM sentences WHERE job_id = %s", job_id) == 0


@pytest.mark.timeout(60)
def test_a_chunk_over_the_soft_limit_stops_and_fails_its_job_with_timeout(stack, slow_pdf):
    headers = stack.api.new_user()
    with stack.fast_worker(CHUNK_SOFT_TIME_LIMIT=1, CHUNK_HARD_TIME_LIMIT=3) as worker:
        job_id = stack.api.upload(headers, slow_pdf, "soft.pdf").body["job_id"]
        stack.database.wait_for_jobs([job_id], timeout=30)
        assert "Hard time limit" not in worker.log()

    assert_failed_without_sentences(stack.database, job_id, "timeout")
    assert "took longer than the 1 s time limit" in stack.database.job(job_id).error_message


@pytest.mark.timeout(60)
def test_a_hung_chunk_is_killed_at_the_hard_limit_and_reaped_as_timeout(stack, slow_pdf):
    # A stopped process cannot act on the soft limit's signal, as when stuck inside pdfium:
    # only the hard limit's SIGKILL ends it, and only the reaper can tell the job.
    headers = stack.api.new_user()
    with stack.fast_worker(CHUNK_SOFT_TIME_LIMIT=2, CHUNK_HARD_TIME_LIMIT=3) as worker:
        job_id = stack.api.upload(headers, slow_pdf, "hung.pdf").body["job_id"]
        wait_for_attempt(stack.database, job_id, 1)
        hung = running_pid(stack, job_id)
        os.kill(hung, signal.SIGSTOP)
        assert chunk_running(stack.database, job_id, 1), "the chunk ended before it could be frozen"
        stack.database.wait_for_jobs([job_id], timeout=3 + STALE_SECONDS + MAINTENANCE_SECONDS + 5)
        assert "Hard time limit (3s) exceeded" in worker.log()
        assert not is_alive(hung), "the hung process outlived the hard limit"

    assert_failed_without_sentences(stack.database, job_id, "timeout")
    assert "ran into the hard time limit" in stack.database.job(job_id).error_message


@pytest.mark.timeout(60)
def test_a_chunk_whose_pool_process_keeps_dying_fails_its_job_with_worker_lost(stack, slow_pdf):
    # Celery notices a dead pool process within 5 s and requeues its message. The reaper
    # waits longer, as in production (60 s), so that each death costs exactly one attempt.
    stale_seconds = 8
    headers = stack.api.new_user()
    with stack.fast_worker(STALE_CHUNK_SECONDS=stale_seconds):
        job_id = stack.api.upload(headers, slow_pdf, "crashing.pdf").body["job_id"]
        for attempt in (1, 2, 3):
            wait_for_attempt(stack.database, job_id, attempt)
            os.kill(running_pid(stack, job_id), signal.SIGKILL)  # as the OOM killer would
        last_death = time.monotonic()
        stack.database.wait_for_jobs([job_id], timeout=30)
        took = time.monotonic() - last_death

    assert_failed_without_sentences(stack.database, job_id, "worker_lost")
    assert stack.database.chunks(job_id)[0].attempts == 3
    assert took <= stale_seconds + MAINTENANCE_SECONDS + 1, (
        f"the job failed {took:.1f} s after the last death"
    )


@pytest.mark.timeout(90)
def test_a_chunk_that_keeps_killing_its_whole_worker_is_reaped_as_worker_lost(stack, slow_pdf):
    headers = stack.api.new_user()
    job_id = stack.api.upload(headers, slow_pdf, "machine-dies.pdf").body["job_id"]
    for attempt in (1, 2, 3):
        with stack.fast_worker() as worker:
            wait_for_attempt(stack.database, job_id, attempt)
            kill_worker_outright(worker)
    last_death = time.monotonic()
    with stack.fast_worker():
        stack.database.wait_for_jobs([job_id], timeout=30)
        took = time.monotonic() - last_death

    assert_failed_without_sentences(stack.database, job_id, "worker_lost")
    assert stack.database.chunks(job_id)[0].attempts == 3
    bound = WORKER_START_SECONDS + STALE_SECONDS + MAINTENANCE_SECONDS + 1
    assert took <= bound, f"the job failed {took:.1f} s after the last death"


@pytest.mark.timeout(60)
def test_a_chunk_delivered_again_while_it_runs_is_not_run_a_second_time(stack, slow_pdf):
    # Delivery is at least once: the republisher, a Redis redelivery, or Celery's requeue
    # after the reaper's can hand out a chunk that is running. The copy must not start it
    # again: that doubles the work and spends an attempt meant for crashes.
    headers = stack.api.new_user()
    with stack.fast_worker():  # two pool processes: one is free for the copy
        job_id = stack.api.upload(headers, slow_pdf, "twice.pdf").body["job_id"]
        wait_for_attempt(stack.database, job_id, 1)
        stack.publish_chunk(job_id, 0)
        stack.database.wait_for_jobs([job_id], timeout=30)

    assert stack.database.job(job_id).status == "completed"
    [chunk] = stack.database.chunks(job_id)
    assert chunk.sentence_count == stack.database.value(
        "SELECT count(*) FROM sentences WHERE job_id = %s", job_id
    )
    assert chunk.attempts == 1, "the copy started the running chunk a second time"
