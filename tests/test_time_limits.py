"""A chunk over the soft time limit stops cleanly and fails its job with code timeout."""

from __future__ import annotations

import os

from app import create_app
from config import TestConfig
from tests.hostile.pdfs import slow_text_pages
from tests.support import Worker, auth_headers, upload, wait_for_job


def test_a_chunk_over_the_soft_limit_fails_the_job_with_timeout(app, monkeypatch):
    # One chunk of ten pages that each hold pdfium about half a second; the limit allows one.
    # (Plain text pages no longer do: 1,500 of them were read within the second.)
    slow = {
        "CELERY_QUEUE": os.environ["CELERY_QUEUE"] + "-limits",
        "CHUNK_SOFT_TIME_LIMIT": "1",
        "CHUNK_HARD_TIME_LIMIT": "20",
        "CHUNK_PAGES": "5000",
    }
    for name, value in slow.items():
        monkeypatch.setenv(name, value)
    client = create_app(TestConfig()).test_client()
    headers = auth_headers(client)

    with Worker.started(concurrency=1, env=slow) as worker:
        job_id = upload(client, headers, slow_text_pages(10)).json["job_id"]
        job = wait_for_job(client, headers, job_id, timeout=60)
        assert "SoftTimeLimitExceeded" in worker.log() or "soft time limit" in worker.log().lower()

    assert job["status"] == "failed"
    assert job["error"]["code"] == "timeout"
    assert "1 s time limit" in job["error"]["message"]
    assert job["chunks"][0]["status"] == "failed"
    assert job["chunks"][0]["error_code"] == "timeout"
