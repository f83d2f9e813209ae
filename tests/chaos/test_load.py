"""Two hundred uploads from twenty users at once, polled while they run, through gunicorn and two workers."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.textpdf import render_text_pdf
from tests.chaos.probes import FINAL_STATUSES, assert_completed_exactly_once

USERS = 20
UPLOADS_PER_USER = 10  # the default per-user upload rate (UPLOAD_RATE_LIMIT)


def user_pdfs(user: int) -> list[bytes]:
    """Small documents of 1 to 5 pages, all different: identical files would be deduplicated."""
    return [
        render_text_pdf(1 + n % 5, chars_per_page=1200, seed=1000 * user + n) for n in range(UPLOADS_PER_USER)
    ]


def act_as_user(stack, pdfs: list[bytes]) -> dict[str, bytes]:
    """Upload every PDF, polling the jobs so far in between, then poll until all ended."""
    headers = stack.api.new_user()
    jobs: dict[str, bytes] = {}
    for pdf in pdfs:
        reply = stack.api.upload(headers, pdf)
        assert reply.status == 202, reply
        jobs[reply.body["job_id"]] = pdf
        assert stack.api.job(headers, reply.body["job_id"]).status == 200
    running = set(jobs)
    deadline = time.monotonic() + 120
    while running and time.monotonic() < deadline:
        for job_id in list(running):
            reply = stack.api.job(headers, job_id)
            assert reply.status == 200, reply
            if reply.body["status"] in FINAL_STATUSES:
                running.discard(job_id)
        time.sleep(0.2)
    return jobs


@pytest.mark.timeout(240)
def test_two_hundred_concurrent_uploads_are_each_processed_exactly_once(stack):
    documents = [user_pdfs(user) for user in range(USERS)]
    with stack.worker(), stack.worker(), ThreadPoolExecutor(USERS) as users:
        jobs: dict[str, bytes] = {}
        for user_jobs in users.map(lambda pdfs: act_as_user(stack, pdfs), documents):
            jobs |= user_jobs
        statuses = stack.database.wait_for_jobs(list(jobs), timeout=30)

    assert stack.api.server_errors() == []
    assert len(jobs) == USERS * UPLOADS_PER_USER  # no two uploads answered with the same job
    per_user = stack.database.rows("SELECT owner_id, count(*) AS jobs FROM jobs GROUP BY owner_id")
    assert sorted(row.jobs for row in per_user) == [UPLOADS_PER_USER] * USERS
    assert statuses == dict.fromkeys(jobs, "completed")
    for job_id, pdf in jobs.items():
        assert_completed_exactly_once(stack.database, job_id, pdf)
