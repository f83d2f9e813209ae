"""A worker killed outright (SIGKILL of its whole process tree) in the middle of a job loses nothing."""

from __future__ import annotations

from functools import partial

import pytest

from bench.textpdf import make_text_pdf
from tests.chaos.probes import assert_completed_exactly_once, mid_job
from tests.chaos.processes import kill_worker_outright
from tests.chaos.servers import wait_until

ROUNDS = 10
PAGES = 200  # 20 chunks: a job runs long enough to be caught in the middle


@pytest.mark.timeout(300)
def test_every_job_completes_exactly_once_through_ten_worker_kills_in_a_row(stack):
    pdfs: dict[str, bytes] = {}
    previous = None
    for round_number in range(ROUNDS):
        headers = stack.api.new_user()  # uploads stay within the default per-user rate
        pdf = make_text_pdf(PAGES, seed=round_number)
        with stack.fast_worker() as worker:
            if previous is not None:
                # The last round's job recovers first, so no chunk is cut short twice and the
                # default attempt cap (MAX_CHUNK_ATTEMPTS) holds.
                assert stack.database.wait_for_jobs([previous], timeout=60) == {previous: "completed"}
            reply = stack.api.upload(headers, pdf, f"round-{round_number}.pdf")
            assert reply.status == 202, reply
            job_id = previous = reply.body["job_id"]
            pdfs[job_id] = pdf
            wait_until(
                partial(mid_job, stack.database, job_id), 60, f"round {round_number}: job {job_id} runs"
            )
            kill_worker_outright(worker)

    with stack.fast_worker():
        statuses = stack.database.wait_for_jobs(list(pdfs), timeout=90)

    assert statuses == dict.fromkeys(pdfs, "completed")
    for job_id, pdf in pdfs.items():
        assert_completed_exactly_once(stack.database, job_id, pdf)
    # Every kill cut at least one running chunk short, which then ran again.
    reruns = stack.database.value(
        "SELECT sum(attempts) - count(*) FROM chunks WHERE job_id = ANY(%s)", list(pdfs)
    )
    assert reruns >= ROUNDS
    stack.assert_no_server_errors()
