"""SIGTERM during a chunk: the worker stops promptly and the chunk is given back, not lost."""

from __future__ import annotations

import os
import time

from app import create_app
from app.extensions import db
from app.models import Chunk
from config import TestConfig
from tests.hostile.pdfs import slow_text_pages
from tests.support import Worker, auth_headers, upload, wait_for_job


def wait_for_running_chunk(app, job_id: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            running = db.session.scalar(
                db.select(db.func.count()).where(Chunk.job_id == job_id, Chunk.status == "running")
            )
            db.session.rollback()
            if running:
                return
            time.sleep(0.05)
    raise AssertionError("no chunk started running")


def test_sigterm_gives_the_running_chunk_back_and_another_worker_finishes_it(app, monkeypatch):
    settings = {
        "CELERY_QUEUE": os.environ["CELERY_QUEUE"] + "-shutdown",
        "CHUNK_PAGES": "3000",  # one chunk: 20 pages that each hold pdfium about half a second
        "WORKER_SOFT_SHUTDOWN_SECONDS": "1",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    app = create_app(TestConfig())  # publishes to the queue of the workers below
    client = app.test_client()
    headers = auth_headers(client)

    with Worker.started(concurrency=1, env=settings) as first:
        job_id = upload(client, headers, slow_text_pages(12)).json["job_id"]
        wait_for_running_chunk(app, job_id)
        stopping = time.monotonic()
        first.stop(timeout=15)
        assert time.monotonic() - stopping < 4  # soft shutdown, not the whole chunk
        assert first.process.returncode is not None
    assert client.get(f"/api/v1/jobs/{job_id}", headers=headers).json["status"] == "processing"

    with Worker.started(concurrency=1, env=settings):
        job = wait_for_job(client, headers, job_id, timeout=60)
    assert job["status"] == "completed"
    assert job["chunks"][0]["attempts"] == 2
