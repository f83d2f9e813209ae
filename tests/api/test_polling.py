"""Cheap polling of GET /jobs/<id>: ETags, 304s that read nothing else, poll hints."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from app.api.polling import RenderedBodies, poll_after_ms
from app.jobs.processing import release_chunk
from app.models.base import utcnow
from bench.textpdf import make_text_pdf
from tests.api.test_job_control import fail_job_in_db, queued_job, set_status
from tests.support import auth_headers, upload, wait_for_job


@pytest.fixture(scope="module")
def completed(client, worker) -> tuple[dict[str, str], str]:
    """A user and their completed two-page job, with sentences and chunks."""
    headers = auth_headers(client)
    response = upload(client, headers, make_text_pdf(2, chars_per_page=800, seed=71))
    assert response.status_code == 202, response.json
    assert wait_for_job(client, headers, response.json["job_id"])["status"] == "completed"
    return headers, response.json["job_id"]


@pytest.fixture(scope="module")
def client(app: Flask):
    return app.test_client()


@contextmanager
def statements(flask_app: Flask) -> Iterator[list[str]]:
    """Record the SQL statements the app sends while the block runs."""
    from app.extensions import db

    seen: list[str] = []

    def record(conn, cursor, statement, *_):
        seen.append(statement)

    with flask_app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_unchanged_job_answers_304_without_a_body(client, completed):
    headers, job_id = completed
    first = client.get(f"/api/v1/jobs/{job_id}", headers=headers)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    assert first.headers["Cache-Control"] == "private, no-cache"

    again = client.get(f"/api/v1/jobs/{job_id}", headers=headers | {"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag


def test_304_reads_only_the_job_row(app, client, completed):
    headers, job_id = completed
    url = f"/api/v1/jobs/{job_id}?sentences_limit=7"  # a page no other test renders
    with statements(app) as full:
        etag = client.get(url, headers=headers).headers["ETag"]
    with statements(app) as conditional:
        assert client.get(url, headers=headers | {"If-None-Match": etag}).status_code == 304

    assert any("FROM sentences" in statement for statement in full)  # the test can tell the paths apart
    assert len(conditional) == 1
    assert "FROM jobs" in conditional[0]
    assert "results" not in conditional[0].split("FROM")[0]


def test_ended_job_is_rendered_once_per_version(app, client, completed):
    headers, job_id = completed
    url = f"/api/v1/jobs/{job_id}?sentences_limit=3"
    first = client.get(url, headers=headers)
    with statements(app) as again:
        second = client.get(url, headers=headers)

    assert second.status_code == 200
    assert second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    assert len(again) == 1
    assert "FROM jobs" in again[0]


def test_rendered_bodies_are_bounded_least_recently_used_first():
    cache = RenderedBodies(max_bytes=100)
    for tag in "abcd":
        cache.put(tag, b"x" * 25)
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("e", b"x" * 25)
    assert cache.get("b") is None
    assert all(cache.get(tag) for tag in "acde")
    cache.put("huge", b"x" * 26)  # over a quarter of the budget: never kept
    assert cache.get("huge") is None


def test_other_sentence_page_is_another_representation(client, completed):
    headers, job_id = completed
    etag = client.get(f"/api/v1/jobs/{job_id}", headers=headers).headers["ETag"]
    other = client.get(f"/api/v1/jobs/{job_id}?sentences_limit=1", headers=headers | {"If-None-Match": etag})
    assert other.status_code == 200
    assert other.headers["ETag"] != etag
    assert len(other.json["sentences"]) == 1


def test_ended_job_has_no_poll_hint(client, completed):
    headers, job_id = completed
    response = client.get(f"/api/v1/jobs/{job_id}", headers=headers)
    assert "poll_after_ms" not in response.json
    assert "Retry-After" not in response.headers


def test_change_gives_a_new_etag_and_a_full_body(idle_client):
    headers, job_id = queued_job(idle_client)
    url = f"/api/v1/jobs/{job_id}"
    first = idle_client.get(url, headers=headers)
    before = first.headers["ETag"]

    assert idle_client.post(f"{url}/cancel", headers=headers).status_code == 200
    after = idle_client.get(url, headers=headers | {"If-None-Match": before})

    assert after.status_code == 200
    assert after.json["status"] == "cancelled"
    assert after.json["updated_at"] > first.json["updated_at"]  # onupdate applies to Core update()
    assert after.headers["ETag"] != before
    assert idle_client.get(url, headers=headers | {"If-None-Match": after.headers["ETag"]}).status_code == 304


def test_someone_elses_job_is_not_found_even_with_its_etag(idle_client):
    headers, job_id = queued_job(idle_client)
    etag = idle_client.get(f"/api/v1/jobs/{job_id}", headers=headers).headers["ETag"]
    stranger = auth_headers(idle_client)
    response = idle_client.get(f"/api/v1/jobs/{job_id}", headers=stranger | {"If-None-Match": etag})
    assert response.status_code == 404
    assert response.json["error"]["code"] == "job_not_found"


def test_poll_hint_grows_while_a_job_waits(idle_client, run_sql):
    headers, job_id = queued_job(idle_client)
    url = f"/api/v1/jobs/{job_id}"
    fresh = idle_client.get(url, headers=headers)
    assert fresh.json["status"] == "queued"
    assert 500 <= fresh.json["poll_after_ms"] < 1000
    assert fresh.headers["Retry-After"] == "1"

    run_sql("UPDATE jobs SET updated_at = now() - interval '20 seconds' WHERE id = :id", id=job_id)
    waited = idle_client.get(url, headers=headers)
    assert 2500 <= waited.json["poll_after_ms"] < 3000
    assert waited.headers["Retry-After"] == "3"
    conditional = idle_client.get(url, headers=headers | {"If-None-Match": waited.headers["ETag"]})
    assert conditional.status_code == 304
    assert conditional.headers["Retry-After"] == "3"

    run_sql("UPDATE jobs SET updated_at = now() - interval '1 hour' WHERE id = :id", id=job_id)
    assert idle_client.get(url, headers=headers).json["poll_after_ms"] == 5000

    set_status(run_sql, job_id, "processing")
    assert idle_client.get(url, headers=headers).json["poll_after_ms"] == 1000

    fail_job_in_db(run_sql, job_id)
    ended = idle_client.get(url, headers=headers)
    assert "poll_after_ms" not in ended.json
    assert "Retry-After" not in ended.headers


@pytest.mark.parametrize(
    ("status", "waited_s", "expected"),
    [("pending", 0, 500), ("queued", 3, 800), ("queued", 600, 5000), ("processing", 600, 1000)]
    + [(status, 0, None) for status in ("completed", "failed", "cancelled")],
)
def test_poll_hint_by_status_and_wait(app, status, waited_s, expected):
    class Row:
        pass

    now = utcnow()
    row = Row()
    row.status, row.updated_at = status, now - timedelta(seconds=waited_s)
    with app.app_context():
        assert poll_after_ms(row, now) == expected


def test_chunk_released_after_cancel_gives_the_job_a_new_etag(app, idle_client, run_sql):
    headers, job_id = queued_job(idle_client)
    run_sql(
        "INSERT INTO chunks (job_id, index, first_page, last_page, status, attempts)"
        " VALUES (:id, 0, 1, 1, 'running', 1)",
        id=job_id,
    )
    assert idle_client.post(f"/api/v1/jobs/{job_id}/cancel", headers=headers).status_code == 200
    cancelled = idle_client.get(f"/api/v1/jobs/{job_id}", headers=headers)
    assert cancelled.json["chunks"][0]["status"] == "running"

    with app.app_context():
        release_chunk(job_id, 0)  # what the chunk's task does when it sees the cancel

    after = idle_client.get(
        f"/api/v1/jobs/{job_id}", headers=headers | {"If-None-Match": cancelled.headers["ETag"]}
    )
    assert after.status_code == 200
    assert after.json["chunks"][0]["status"] == "pending"


def test_raw_sql_write_moves_the_version_too(idle_client, run_sql):
    headers, job_id = queued_job(idle_client)
    url = f"/api/v1/jobs/{job_id}"
    etag = idle_client.get(url, headers=headers).headers["ETag"]
    run_sql("UPDATE jobs SET current_step = 'Checked by an operator' WHERE id = :id", id=job_id)
    after = idle_client.get(url, headers=headers | {"If-None-Match": etag})
    assert after.status_code == 200  # the migration's trigger moved updated_at
    assert after.json["current_step"] == "Checked by an operator"
