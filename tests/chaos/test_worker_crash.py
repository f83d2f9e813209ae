"""A worker killed outright (SIGKILL of its whole process tree) in the middle of a job loses nothing."""

from __future__ import annotations

from functools import partial

import pytest

from bench.textpdf import make_text_pdf
from tests.chaos.probes import assert_completed_exactly_once, mid_job
from tests.chaos.processes import kill_worker_outright
from tests.chaos.servers import wait_until
from tests.chaos.stack import CHUNK_PAGES

ROUNDS = 10
PAGES = 40  # 20 chunks


@pytest.mark.timeout(180)
def test_every_job_completes_exactly_once_through_ten_worker_kills_in_a_row(stack):
    headers = stack.api.new_user()
    # Each kill may cost a running chunk one attempt; the attempt cap is tested elsewhere.
    # Messages a dead worker had taken come back through the reaper and the republisher.
    settings = {"MAX_CHUNK_ATTEMPTS": ROUNDS + 1, "REQUEUE_AFTER_SECONDS": 3}
    pdfs: dict[str, bytes] = {}

    for round_number in range(ROUNDS):
        pdf = make_text_pdf(PAGES, seed=round_number)
        with stack.worker(**settings) as worker:
            reply = stack.api.upload(headers, pdf, f"round-{round_number}.pdf")
            assert reply.status == 202, reply
            job_id = reply.body["job_id"]
            pdfs[job_id] = pdf
            wait_until(
                partial(mid_job, stack.database, job_id), 60, f"round {round_number}: job {job_id} runs"
            )
            kill_worker_outright(worker)

    with stack.worker(**settings):
        statuses = stack.database.wait_for_jobs(list(pdfs), timeout=90)

    assert statuses == dict.fromkeys(pdfs, "completed")
    for job_id, pdf in pdfs.items():
        assert_completed_exactly_once(stack.database, job_id, pdf, CHUNK_PAGES)
    # Every kill cut at least one running chunk short, which then ran again.
    reruns = stack.database.value(
        "SELECT sum(attempts) - count(*) FROM chunks WHERE job_id = ANY(%s)", list(pdfs)
    )
    assert reruns >= ROUNDS
    stack.assert_no_server_errors()
