"""Repeated uploads: the same Idempotency-Key, or the same file, answer with the earlier job."""

from __future__ import annotations

import hashlib
import io
import threading
import time
import uuid

import pytest
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Job
from tests.support import auth_headers, upload

PDF_HEADER = b"%PDF-1.7\n"


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return headers | {"Idempotency-Key": key}


def job_count(client, headers: dict[str, str]) -> int:
    return client.get("/api/v1/jobs", headers=headers).json["total"]


def upload_with(client, headers: dict[str, str], data: bytes, form: dict | None = None, query: str = ""):
    """Upload with extra form fields or a query string."""
    fields = {"file": (io.BytesIO(data), "doc.pdf")} | (form or {})
    return client.post(f"/api/v1/jobs{query}", headers=headers, data=fields)


def test_the_same_key_returns_the_same_job_without_storing_the_file_again(idle_client, run_sql):
    headers = auth_headers(idle_client)
    key = "k" * 200

    first = upload(idle_client, keyed(headers, key), PDF_HEADER)
    again = upload(idle_client, keyed(headers, key), PDF_HEADER)

    assert (first.status_code, first.json["deduplicated"]) == (202, False)
    assert (again.status_code, again.json["deduplicated"]) == (200, True)
    assert again.json["job_id"] == first.json["job_id"]
    assert again.headers["Location"] == first.headers["Location"]
    assert job_count(idle_client, headers) == 1
    assert run_sql("SELECT count(*) FROM documents WHERE job_id = :id", id=first.json["job_id"])[0][0] == 1


def test_another_user_with_the_same_key_gets_a_new_job(idle_client):
    key = "shared-key-1"
    mine = upload(idle_client, keyed(auth_headers(idle_client), key), PDF_HEADER)
    theirs = upload(idle_client, keyed(auth_headers(idle_client), key), PDF_HEADER)

    assert mine.status_code == theirs.status_code == 202
    assert mine.json["job_id"] != theirs.json["job_id"]


def test_a_key_reused_for_another_file_is_refused(idle_client):
    headers = keyed(auth_headers(idle_client), "one-key")
    assert upload(idle_client, headers, PDF_HEADER + b"first").status_code == 202

    response = upload(idle_client, headers, PDF_HEADER + b"second")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "idempotency_key_reused"


@pytest.mark.parametrize("key", ["", "k" * 201, "tab\there", "caf\u00e9", "bell\x07"])
def test_an_invalid_idempotency_key_is_a_422(idle_client, key):
    response = upload(idle_client, keyed(auth_headers(idle_client), key), PDF_HEADER)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert list(response.json["error"]["fields"]) == ["Idempotency-Key"]


@pytest.mark.parametrize(
    ("data", "status", "code"), [(b"", 422, "empty_file"), (b"<html>", 415, "unsupported_type")]
)
def test_a_repeated_key_does_not_skip_validation(idle_client, data, status, code):
    headers = keyed(auth_headers(idle_client), "validated-key")
    assert upload(idle_client, headers, PDF_HEADER).status_code == 202

    response = upload(idle_client, headers, data)
    assert (response.status_code, response.json["error"]["code"]) == (status, code)


def test_uploads_racing_on_one_key_end_with_one_job(app, idle_client, run_sql):
    email = f"racing-{uuid.uuid4().hex[:8]}@example.com"
    headers = auth_headers(idle_client, email)
    [(owner_id,)] = run_sql("SELECT id FROM users WHERE email = :email", email=email)
    job = Job(
        owner_id=owner_id,
        filename="doc.pdf",
        size_bytes=len(PDF_HEADER),
        sha256=hashlib.sha256(PDF_HEADER).hexdigest(),
        idempotency_key="race",
    )
    responses = []
    loser = threading.Thread(
        target=lambda: responses.append(upload(idle_client, keyed(headers, "race"), PDF_HEADER))
    )
    # The winner has inserted its job but not committed when the loser looks the key up.
    with app.app_context(), Session(db.engine) as winner:
        winner.add(job)
        winner.flush()
        winner_id = job.id
        loser.start()
        wait_until_blocked_on_a_lock(run_sql)
        winner.commit()
    loser.join(timeout=30)

    [response] = responses
    assert (response.status_code, response.json["deduplicated"]) == (200, True)
    assert response.json["job_id"] == winner_id
    assert job_count(idle_client, headers) == 1


def wait_until_blocked_on_a_lock(run_sql, timeout: float = 10) -> None:
    """Wait until some session of the test database waits for a row or index lock."""
    deadline = time.monotonic() + timeout
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    while run_sql(query)[0][0] == 0:
        assert time.monotonic() < deadline, "The second upload never waited for the first one's insert."
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("status", "deduplicated"),
    [
        ("pending", True),
        ("queued", True),
        ("processing", True),
        ("completed", True),
        ("failed", False),
        ("cancelled", False),
    ],
)
def test_the_same_file_again_returns_a_live_or_completed_job(idle_client, run_sql, status, deduplicated):
    headers = auth_headers(idle_client)
    first = upload(idle_client, headers, PDF_HEADER).json["job_id"]
    run_sql("UPDATE jobs SET status = :status WHERE id = :id", status=status, id=first)

    again = upload(idle_client, headers, PDF_HEADER)
    assert again.status_code == (200 if deduplicated else 202)
    assert again.json["deduplicated"] is deduplicated
    assert (again.json["job_id"] == first) is deduplicated


@pytest.mark.parametrize(
    ("form", "query"), [({"force": "true"}, ""), ({}, "?force=true"), ({"force": "1"}, "")]
)
def test_force_makes_a_fresh_run_of_the_same_file(idle_client, form, query):
    headers = auth_headers(idle_client)
    first = upload(idle_client, headers, PDF_HEADER).json["job_id"]

    fresh = upload_with(idle_client, headers, PDF_HEADER, form, query)
    assert (fresh.status_code, fresh.json["deduplicated"]) == (202, False)
    assert fresh.json["job_id"] != first
    assert (
        upload_with(idle_client, headers, PDF_HEADER, {"force": "false"}).json["job_id"]
        == fresh.json["job_id"]
    )


def test_the_same_file_from_another_user_is_a_new_job(idle_client):
    mine = upload(idle_client, auth_headers(idle_client), PDF_HEADER)
    theirs = upload(idle_client, auth_headers(idle_client), PDF_HEADER)
    assert theirs.status_code == 202
    assert theirs.json["job_id"] != mine.json["job_id"]


def test_an_unclear_force_flag_is_a_422(idle_client):
    response = upload_with(idle_client, auth_headers(idle_client), PDF_HEADER, {"force": "maybe"})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert list(response.json["error"]["fields"]) == ["force"]
