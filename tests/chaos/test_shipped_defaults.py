"""Each fault class at the settings that ship: workers as their image starts them, nothing shortened.

After a worker dies, every chunk it held must be running again (or its job failed with
a code) within STALE_CHUNK_SECONDS + 2 x MAINTENANCE_INTERVAL_SECONDS of a live worker
being ready (90 s at the defaults); uploads accepted while Redis was down must run
within the same bound once it is back. The tests allow three times the bound;
bench/faults.py measures the real times.
"""

from __future__ import annotations

import re
import time
from functools import partial

import pytest
from fpdf import FPDF

from bench.textpdf import make_text_pdf
from config import Config
from tests.chaos.inject.docjobs_faults import SEGV_ON_SPLIT
from tests.chaos.probes import assert_completed_exactly_once, mid_job
from tests.chaos.processes import kill_worker_outright
from tests.chaos.servers import wait_until

DEFAULTS = Config()  # the suite changes none of the timing settings read here
RECOVERY_BOUND = DEFAULTS.STALE_CHUNK_SECONDS + 2 * DEFAULTS.MAINTENANCE_INTERVAL_SECONDS
SLACK = 3


def sentences(database, job_id: str) -> list[tuple]:
    return [
        tuple(row)
        for row in database.rows(
            'SELECT page, start, "end", text FROM sentences WHERE job_id = %s ORDER BY chunk_index, position',
            job_id,
        )
    ]


def chunk_attempts(database, job_id: str) -> dict[int, tuple[str, int]]:
    rows = database.rows("SELECT index, status, attempts FROM chunks WHERE job_id = %s", job_id)
    return {row.index: (row.status, row.attempts) for row in rows}


def running_again(database, job_id: str, held: dict[int, int]) -> bool:
    """Every chunk that was running at the kill has started again (or ended) since."""
    now = chunk_attempts(database, job_id)
    return all(now[index][1] > attempts or now[index][0] != "running" for index, attempts in held.items())


@pytest.mark.timeout(SLACK * RECOVERY_BOUND + 120)
def test_a_killed_workers_chunks_run_again_within_the_bound_and_the_job_matches_an_undisturbed_run(stack):
    pdf = make_text_pdf(300, seed=77)  # 30 chunks
    with stack.worker() as worker:
        reference = stack.api.upload(stack.api.new_user(), pdf, "undisturbed.pdf").body["job_id"]
        assert stack.database.wait_for_jobs([reference], timeout=120) == {reference: "completed"}
        job_id = stack.api.upload(stack.api.new_user(), pdf, "disturbed.pdf").body["job_id"]
        wait_until(partial(mid_job, stack.database, job_id), 60, f"job {job_id} runs")
        kill_worker_outright(worker)  # as an out-of-memory kill of the whole container
    held = {
        index: attempts
        for index, (status, attempts) in chunk_attempts(stack.database, job_id).items()
        if status == "running"
    }
    assert held, "no chunk was running when the worker died"

    with stack.worker():
        ready = time.monotonic()
        wait_until(
            partial(running_again, stack.database, job_id, held),
            SLACK * RECOVERY_BOUND,
            f"chunks {sorted(held)} held by the dead worker run again",
            interval=0.2,
        )
        recovered = time.monotonic() - ready
        assert stack.database.wait_for_jobs([job_id], timeout=120) == {job_id: "completed"}

    assert recovered <= SLACK * RECOVERY_BOUND
    assert_completed_exactly_once(stack.database, job_id, pdf)
    assert sentences(stack.database, job_id) == sentences(stack.database, reference)
    stack.assert_no_server_errors()


@pytest.mark.timeout(SLACK * RECOVERY_BOUND + 60)
def test_uploads_made_while_redis_is_down_all_complete_within_the_bound_once_it_is_back(stack):
    headers = stack.api.new_user()
    pdfs = [make_text_pdf(12, seed=500 + n) for n in range(5)]
    with stack.worker() as worker:
        with stack.redis.down():
            replies = [stack.api.upload(headers, pdf) for pdf in pdfs]
        back = time.monotonic()
        assert [(reply.status, reply.body["status"]) for reply in replies] == [(202, "pending")] * 5
        jobs = {reply.body["job_id"]: pdf for reply, pdf in zip(replies, pdfs, strict=True)}
        statuses = stack.database.wait_for_jobs(list(jobs), timeout=SLACK * RECOVERY_BOUND)
        took = time.monotonic() - back
        assert worker.process.poll() is None, "the worker exited instead of reconnecting"

    assert statuses == dict.fromkeys(jobs, "completed")
    assert took <= SLACK * RECOVERY_BOUND
    for job_id, pdf in jobs.items():
        assert_completed_exactly_once(stack.database, job_id, pdf)
    stack.assert_no_server_errors()


def titled_pdf(title: str) -> bytes:
    pdf = FPDF()
    pdf.set_title(title)
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(text="A document whose split crashes its process.")
    return bytes(pdf.output())


def deliveries(log: str, task_id: str) -> int:
    return len(re.findall(rf"docjobs\.process_job\[{task_id}\] received", log))


@pytest.mark.timeout(120)
def test_a_pdf_that_kills_its_process_while_being_split_fails_with_worker_lost_and_is_not_redelivered(stack):
    headers = stack.api.new_user()
    with stack.worker(inject_faults=True) as worker:
        job_id = stack.api.upload(headers, titled_pdf(SEGV_ON_SPLIT), "crashes.pdf").body["job_id"]
        assert stack.database.wait_for_jobs([job_id], timeout=60) == {job_id: "failed"}
        task_id = stack.database.job(job_id).celery_task_id
        delivered = deliveries(worker.log(), task_id)
        time.sleep(5)  # Celery requeues a lost task at once: a further delivery would show by now
        assert deliveries(worker.log(), task_id) == delivered
        assert worker.log().count("exited with 'signal 11 (SIGSEGV)'") == DEFAULTS.MAX_CHUNK_ATTEMPTS

    job = stack.database.job(job_id)
    assert (job.status, job.error_code, job.attempts) == (
        "failed",
        "worker_lost",
        DEFAULTS.MAX_CHUNK_ATTEMPTS,
    )
    assert delivered == DEFAULTS.MAX_CHUNK_ATTEMPTS + 1  # the last one finds the attempts used up
    assert stack.database.chunks(job_id) == []


def no_running_chunk(database, job_id: str) -> bool:
    return not database.value("SELECT count(*) FROM chunks WHERE job_id = %s AND status = 'running'", job_id)


@pytest.mark.timeout(300)
def test_a_cancelled_jobs_running_chunks_stop_within_a_heartbeat_and_what_it_wrote_stays_readable(stack):
    headers = stack.api.new_user()
    # Dense pages with embeddings: a chunk runs longer than a heartbeat, so it must be stopped.
    pdf = make_text_pdf(60, chars_per_page=15_000, seed=600)
    with stack.worker():
        job_id = stack.api.upload(headers, pdf, "long.pdf", analyses="embeddings").body["job_id"]
        wait_until(partial(mid_job, stack.database, job_id), 180, f"job {job_id} runs", interval=0.2)
        assert stack.api.call("POST", f"/api/v1/jobs/{job_id}/cancel", headers).status == 200
        cancelled = time.monotonic()
        bound = DEFAULTS.HEARTBEAT_SECONDS + 2  # one beat, then one batch of sentences
        wait_until(partial(no_running_chunk, stack.database, job_id), SLACK * bound, "running chunks stop")
        stopped_after = time.monotonic() - cancelled

    chunks = stack.database.chunks(job_id)
    assert {chunk.status for chunk in chunks} <= {"completed", "cancelled"}, chunks
    assert "cancelled" in {chunk.status for chunk in chunks}
    assert stopped_after <= SLACK * bound
    written = sum(chunk.sentence_count for chunk in chunks if chunk.status == "completed")
    assert written > 0
    page = stack.api.call("GET", f"/api/v1/jobs/{job_id}/sentences?limit=1", headers)
    assert page.status == 200, page
    assert page.body["total"] == written
    assert stack.api.job(headers, job_id).body["status"] == "cancelled"


def maintenance_counts(log: str, repair: str) -> int:
    return sum(int(count) for count in re.findall(rf"'{repair}': (\d+)", log))


@pytest.mark.timeout(SLACK * RECOVERY_BOUND + 60)
def test_two_workers_share_maintenance_and_each_repair_happens_once(stack):
    headers = stack.api.new_user()
    pdfs = [make_text_pdf(4, seed=700 + n) for n in range(4)]
    with stack.worker() as first, stack.worker() as second:
        with stack.redis.down():
            job_ids = [stack.api.upload(headers, pdf).body["job_id"] for pdf in pdfs]
        statuses = stack.database.wait_for_jobs(job_ids, timeout=SLACK * RECOVERY_BOUND)
        logs = first.log() + second.log()

    assert statuses == dict.fromkeys(job_ids, "completed")
    assert maintenance_counts(logs, "pending_jobs_enqueued") == len(job_ids)
    for job_id in job_ids:
        assert stack.database.job(job_id).attempts == 1  # split once
        assert deliveries(logs, stack.database.job(job_id).celery_task_id) == 1
