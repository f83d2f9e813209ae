"""One account cannot hold unbounded work: active jobs, storage and retries are capped per user.

Against the API as it ships, at the default limits (MAX_ACTIVE_JOBS, USER_STORAGE_MB,
RETRY_RATE_LIMIT), with no worker running. Reaching the first two through the API
alone would take hours (uploads are limited to 10 an hour), so the user's earlier jobs
are written into the database directly.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from config import Config
from tests.hostile import pdfs

DEFAULTS = Config()
MB = 1024 * 1024
RETRIES_PER_HOUR = int(DEFAULTS.RETRY_RATE_LIMIT.removesuffix("/hour"))


@pytest.fixture
def earlier_jobs(pdf_stack) -> Iterator[list[str]]:
    """Ids of jobs a test writes into the database; deleted afterwards, before any worker finds them."""
    ids: list[str] = []
    yield ids
    pdf_stack.database.rows("DELETE FROM jobs WHERE id = ANY(%s)", ids)


def add_jobs(stack, owner_of: str, count: int, status: str, size_bytes: int = 1000) -> list[str]:
    """Write `count` jobs of the given status for the owner of job `owner_of`; return their ids."""
    return [
        row.id
        for row in stack.database.rows(
            "INSERT INTO jobs (id, owner_id, status, progress_percent, current_step, total_chunks,"
            " completed_chunks, filename, size_bytes, sha256, analyses, created_at, updated_at)"
            " SELECT gen_random_uuid()::text, owner_id, %s, 0, 'Written by the test', 0, 0, 'earlier.pdf',"
            " %s, sha256, analyses, now(), now() FROM jobs, generate_series(1, %s) WHERE id = %s RETURNING id",
            status,
            size_bytes,
            count,
            owner_of,
        )
    ]


def distinct_pdf(number: int) -> bytes:
    """A small PDF of its own bytes: a repeated file would be answered by its earlier job."""
    return pdfs.single_page(pdfs.text_lines([f"Upload number {number} of a user near a limit."]))


def upload(stack, headers: dict[str, str], number: int):
    return stack.api.upload(headers, distinct_pdf(number), f"{number}.pdf")


def assert_error(reply, status: int, code: str, *phrases: str) -> None:
    assert (reply.status, reply.body["error"]["code"]) == (status, code), reply
    for phrase in phrases:
        assert phrase in reply.body["error"]["message"], reply


@pytest.mark.timeout(60)
def test_a_job_beyond_the_active_jobs_limit_is_refused_until_one_ends(pdf_stack, earlier_jobs):
    headers = pdf_stack.api.new_user()
    first = upload(pdf_stack, headers, 0)
    assert first.status == 202, first
    earlier_jobs += add_jobs(pdf_stack, first.body["job_id"], DEFAULTS.MAX_ACTIVE_JOBS - 1, "queued")

    refused = upload(pdf_stack, headers, 1)
    assert_error(
        refused, 429, "too_many_active_jobs", f"{DEFAULTS.MAX_ACTIVE_JOBS} jobs", "wait for one to end"
    )

    assert pdf_stack.api.call("POST", f"/api/v1/jobs/{first.body['job_id']}/cancel", headers).status == 200
    assert upload(pdf_stack, headers, 2).status == 202
    pdf_stack.assert_no_server_errors()


@pytest.mark.timeout(60)
def test_an_upload_that_would_pass_the_storage_quota_is_refused_until_jobs_are_deleted(
    pdf_stack, earlier_jobs
):
    headers = pdf_stack.api.new_user()
    first = upload(pdf_stack, headers, 0)
    assert first.status == 202, first
    # An earlier job whose PDF and results fill the quota but for a few bytes.
    quota = DEFAULTS.USER_STORAGE_MB * MB
    [full] = add_jobs(pdf_stack, first.body["job_id"], 1, "completed", quota - first.body["size_bytes"] - 10)
    earlier_jobs.append(full)

    refused = upload(pdf_stack, headers, 1)
    assert_error(
        refused, 403, "storage_quota_exceeded", f"of your {DEFAULTS.USER_STORAGE_MB} MB", "delete jobs"
    )

    assert pdf_stack.api.call("DELETE", f"/api/v1/jobs/{full}", headers).status == 204
    assert upload(pdf_stack, headers, 1).status == 202
    pdf_stack.assert_no_server_errors()


@pytest.mark.timeout(60)
def test_retries_past_the_rate_limit_are_refused_with_retry_after(pdf_stack):
    headers = pdf_stack.api.new_user()
    job_id = upload(pdf_stack, headers, 0).body["job_id"]
    statuses = []
    for _ in range(RETRIES_PER_HOUR + 1):
        pdf_stack.database.rows(
            "UPDATE jobs SET status = 'failed', error_code = 'corrupt_pdf', finished_at = now() WHERE id = %s",
            job_id,
        )
        statuses.append(pdf_stack.api.call("POST", f"/api/v1/jobs/{job_id}/retry", headers).status)
    again = requests.post(f"{pdf_stack.api.base_url}/api/v1/jobs/{job_id}/retry", headers=headers, timeout=10)

    assert statuses == [202] * RETRIES_PER_HOUR + [429]
    assert (again.status_code, again.json()["error"]["code"]) == (429, "rate_limited")
    assert int(again.headers["Retry-After"]) > 0
    pdf_stack.assert_no_server_errors()
