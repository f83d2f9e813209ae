"""A chunk over the soft time limit stops cleanly and fails its job with code timeout."""

from __future__ import annotations

import os

from app import create_app
from bench.textpdf import make_text_pdf
from config import TestConfig
from tests.support import Worker, auth_headers, upload, wait_for_job


def test_a_chunk_over_the_soft_limit_fails_the_job_with_timeout(app, monkeypatch):
    # One chunk of 1,500 pages takes seconds; the limit allows one.
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
        job_id = upload(client, headers, make_text_pdf(1500)).json["job_id"]
        job = wait_for_job(client, headers, job_id, timeout=60)
        assert "SoftTimeLimitExceeded" in worker.log() or "soft time limit" in worker.log().lower()

    assert job["status"] == "failed"
    assert job["error"]["code"] == "timeout"
    assert "1 s time limit" in job["error"]["message"]
    assert job["chunks"][0]["status"] == "failed"
    assert job["chunks"][0]["error_code"] == "timeout"
