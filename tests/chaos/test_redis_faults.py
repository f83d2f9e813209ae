"""Redis restarts or goes away: workers reconnect by themselves and no upload is lost.

The module's Redis keeps nothing on disk, so a restart also loses every queued message;
the republisher (REQUEUE_AFTER_SECONDS) and the sweeper must make up for them.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.textpdf import make_text_pdf
from tests.chaos.probes import assert_completed_exactly_once, mid_job
from tests.chaos.servers import wait_until

UPLOADS_PER_USER = 10  # the default per-user upload rate (UPLOAD_RATE_LIMIT)


def upload_all(stack, pdfs: list[bytes], threads: int = 4) -> list:
    """Upload every PDF, a new user for every UPLOADS_PER_USER of them, and return the replies in order."""
    users = [stack.api.new_user() for _ in range(0, len(pdfs), UPLOADS_PER_USER)]
    uploads = [(users[n // UPLOADS_PER_USER], pdf) for n, pdf in enumerate(pdfs)]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda upload: stack.api.upload(*upload), uploads))


@pytest.mark.timeout(90)
def test_idle_workers_resume_after_redis_restarts(stack):
    headers = stack.api.new_user()
    before, after = make_text_pdf(6, seed=300), make_text_pdf(6, seed=301)
    with stack.fast_worker() as worker:
        first = stack.api.upload(headers, before).body["job_id"]
        stack.database.wait_for_jobs([first], timeout=30)
        stack.redis.restart(down_for=2)
        second = stack.api.upload(headers, after)
        assert second.status == 202, second
        stack.database.wait_for_jobs([second.body["job_id"]], timeout=30)
        assert worker.process.poll() is None, "the worker exited instead of reconnecting"

    assert_completed_exactly_once(stack.database, first, before)
    assert_completed_exactly_once(stack.database, second.body["job_id"], after)
    stack.assert_no_server_errors()


@pytest.mark.timeout(120)
def test_busy_workers_resume_after_redis_restarts_and_lost_messages_are_republished(stack):
    queued_before = [make_text_pdf(40, seed=310 + n) for n in range(3)]
    queued_after = [make_text_pdf(20, seed=320 + n) for n in range(2)]
    with stack.fast_worker() as worker:
        before = [reply.body["job_id"] for reply in upload_all(stack, queued_before)]
        wait_until(lambda: mid_job(stack.database, before[0]), 30, "the first job runs")
        stack.redis.restart(down_for=2)
        after = [reply.body["job_id"] for reply in upload_all(stack, queued_after)]
        statuses = stack.database.wait_for_jobs(before + after, timeout=60)
        assert worker.process.poll() is None, "the worker exited instead of reconnecting"

    assert statuses == dict.fromkeys(before + after, "completed")
    for job_id, pdf in zip(before + after, queued_before + queued_after, strict=True):
        assert_completed_exactly_once(stack.database, job_id, pdf)
    stack.assert_no_server_errors()


@pytest.mark.timeout(120)
def test_uploads_while_redis_is_down_are_kept_pending_and_processed_once_it_is_back(stack):
    pdfs = [make_text_pdf(4, seed=400 + n) for n in range(20)]
    existing = [row.id for row in stack.database.rows("SELECT id FROM jobs")]
    with stack.fast_worker():
        with stack.redis.down():
            replies = upload_all(stack, pdfs)
            new_jobs = stack.database.rows(
                "SELECT j.id, j.status, d.job_id IS NOT NULL AS has_document"
                " FROM jobs j LEFT JOIN documents d ON d.job_id = j.id WHERE j.id <> ALL(%s)",
                existing,
            )

        # Accepted and kept for later, or refused cleanly with nothing left behind.
        assert {reply.status for reply in replies} <= {202, 503}, [reply.status for reply in replies]
        refused = [reply for reply in replies if reply.status == 503]
        assert all(reply.body["error"]["code"] for reply in refused), refused
        accepted = {
            reply.body["job_id"]: pdf for reply, pdf in zip(replies, pdfs, strict=True) if reply.status == 202
        }
        assert all(reply.body["status"] == "pending" for reply in replies if reply.status == 202)
        assert {job.id: (job.status, job.has_document) for job in new_jobs} == dict.fromkeys(
            accepted, ("pending", True)
        )

        statuses = stack.database.wait_for_jobs(list(accepted), timeout=60)

    assert statuses == dict.fromkeys(accepted, "completed")
    for job_id, pdf in accepted.items():
        assert_completed_exactly_once(stack.database, job_id, pdf)
