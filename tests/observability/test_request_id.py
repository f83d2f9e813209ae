"""X-Request-ID: echoed or generated, and carried with the job's tasks into the worker's log."""

from __future__ import annotations

import re
import secrets
import time

import pytest

from app.observability.request_id import accept_request_id
from tests.support import auth_headers, upload, wait_for_job


def test_a_sent_request_id_is_echoed(client):
    response = client.get("/api/v1/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"


@pytest.mark.parametrize("sent", [None, "", "has space", "x" * 129, "caf\u00e9"])
def test_a_missing_or_unusable_request_id_is_replaced_by_a_new_one(client, sent):
    response = client.get("/api/v1/nowhere", headers={"X-Request-ID": sent} if sent is not None else {})
    assert response.status_code == 404
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_request_ids_of_128_printable_characters_are_kept():
    assert accept_request_id("r" * 128) == "r" * 128


def test_the_request_id_reaches_the_worker_with_the_job_id(client, worker, shared_pdfs):
    request_id = f"trace-{secrets.token_hex(8)}"
    headers = auth_headers(client)
    data = (shared_pdfs / "sf__pdflatex-4-pages.pdf").read_bytes()  # two chunks: two tasks
    accepted = upload(client, headers | {"X-Request-ID": request_id}, data)
    assert accepted.headers["X-Request-ID"] == request_id
    job_id = accepted.json["job_id"]
    assert wait_for_job(client, headers, job_id)["status"] == "completed"

    def task_lines() -> list[str]:
        return [line for line in worker.log().splitlines() if request_id in line and job_id in line]

    deadline = time.monotonic() + 10  # the log file may trail the database by a moment
    while len(task_lines()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = task_lines()
    assert any("docjobs.process_job started" in line for line in lines), worker.log()[-3000:]
    assert any("docjobs.process_chunk started" in line for line in lines), worker.log()[-3000:]
