"""A single pdfium call past the soft time limit is stopped within ten seconds of it.

Celery's soft limit is an exception, which cannot interrupt C code: unguarded, the page
here holds pdfium in one call for over a minute. The worker runs as its image starts
it, with the soft limit shortened (a timing setting) so the test need not wait 25 minutes.
"""

from __future__ import annotations

import time

import pytest

from tests.chaos.processes import is_alive
from tests.chaos.servers import wait_until
from tests.hostile import pdfs
from tests.hostile.pdf_support import sandbox_helpers

SOFT_LIMIT = 2
GRACE = 10  # the bound
SLACK = 3


@pytest.mark.timeout(60)
def test_a_pdfium_call_past_the_soft_time_limit_is_stopped_within_ten_seconds(pdf_stack):
    with pdf_stack.worker(CHUNK_SOFT_TIME_LIMIT=SOFT_LIMIT, CHUNK_HARD_TIME_LIMIT=600) as worker:
        wait_until(lambda: len(sandbox_helpers(worker)) == 2, 10, "each pool process has its PDF sandbox")
        helpers = sandbox_helpers(worker)
        started = time.monotonic()
        reply = pdf_stack.api.upload(pdf_stack.api.new_user(), pdfs.slow_page(), "slow.pdf")
        # Unguarded, loading the page holds pdfium for over a minute.
        pdf_stack.database.wait_for_jobs([reply.body["job_id"]], timeout=SOFT_LIMIT + GRACE + SLACK)
        took = time.monotonic() - started
        stopped = {pid for pid in helpers if not is_alive(pid)}

    job = pdf_stack.database.job(reply.body["job_id"])
    assert (job.status, job.error_code) == ("failed", "timeout"), job
    assert f"{SOFT_LIMIT} s time limit" in job.error_message
    assert took <= SOFT_LIMIT + GRACE + SLACK
    assert len(stopped) == 1, "the helper stuck in pdfium was not killed"
