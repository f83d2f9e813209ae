"""Cancelling, retrying and deleting jobs through the API, against real workers where it matters."""

from __future__ import annotations

import time
import uuid

import pytest

from app.jobs.processing import start_job
from app.jobs.queue import PROCESS_CHUNK_TASK, PROCESS_JOB_TASK
from tests.support import Worker, auth_headers, upload, wait_for_job

PDF_HEADER = b"%PDF-1.7\n"
LIVE = ["pending", "queued", "processing"]
ENDED = ["completed", "failed", "cancelled"]
TABLES = {"jobs": "id", "documents": "job_id", "chunks": "job_id", "sentences": "job_id"}


def queued_job(idle_client, data: bytes = PDF_HEADER) -> tuple[dict[str, str], str]:
    """A new user and a job of theirs that no worker will take."""
    headers = auth_headers(idle_client)
    response = upload(idle_client, headers, data)
    assert response.status_code == 202, response.json
    return headers, response.json["job_id"]


def set_status(run_sql, job_id: str, status: str) -> None:
    run_sql("UPDATE jobs SET status = :status WHERE id = :id", status=status, id=job_id)


def fail_job_in_db(run_sql, job_id: str) -> None:
    run_sql(
        "UPDATE jobs SET status = 'failed', error_code = 'internal_error', error_message = 'boom',"
        " current_step = 'Failed', finished_at = now() WHERE id = :id",
        id=job_id,
    )


def row_counts(run_sql, job_id: str) -> dict[str, int]:
    return {
        table: run_sql(f"SELECT count(*) FROM {table} WHERE {column} = :id", id=job_id)[0][0]
        for table, column in TABLES.items()
    }


def chunk_rows(run_sql, job_id: str) -> dict[int, dict]:
    rows = run_sql('SELECT * FROM chunks WHERE job_id = :id ORDER BY "index"', id=job_id)
    return {row.index: row._asdict() for row in rows}


def all_sentences(client, headers: dict[str, str], job_id: str) -> list[dict]:
    return client.get(f"/api/v1/jobs/{job_id}?sentences_limit=5000", headers=headers).json["sentences"]


def wait_for_tasks(worker: Worker, task_ids: list[str], timeout: float = 30) -> None:
    """Wait until the worker has run every task, whatever each one decided to do."""
    deadline = time.monotonic() + timeout
    while not all(f"[{task_id}] succeeded" in worker.log() for task_id in task_ids):
        assert time.monotonic() < deadline, f"Tasks {task_ids} did not run:\n{worker.log()[-3000:]}"
        time.sleep(0.05)


@pytest.mark.parametrize("status", LIVE)
def test_a_live_job_can_be_cancelled(idle_client, run_sql, status):
    headers, job_id = queued_job(idle_client)
    set_status(run_sql, job_id, status)

    response = idle_client.post(f"/api/v1/jobs/{job_id}/cancel", headers=headers)
    assert response.status_code == 200
    assert response.json["status"] == "cancelled"
    assert response.json["current_step"] == "Cancelled"
    assert response.json["finished_at"] is not None
    assert response.json["error"] is None
    job = idle_client.get(f"/api/v1/jobs/{job_id}", headers=headers).json
    assert (job["status"], job["chunks"], job["sentences"], job["sentence_count"]) == ("cancelled", [], [], 0)


@pytest.mark.parametrize(
    ("action", "status", "code"),
    [("cancel", status, "job_not_cancellable") for status in ENDED]
    + [("retry", status, "job_not_retryable") for status in [*LIVE, "completed", "cancelled"]],
)
def test_an_action_the_jobs_status_does_not_allow_is_a_409(idle_client, run_sql, action, status, code):
    headers, job_id = queued_job(idle_client)
    set_status(run_sql, job_id, status)

    response = idle_client.post(f"/api/v1/jobs/{job_id}/{action}", headers=headers)
    assert response.status_code == 409
    assert response.json["error"]["code"] == code
    assert status in response.json["error"]["message"]
    assert idle_client.get(f"/api/v1/jobs/{job_id}", headers=headers).json["status"] == status


@pytest.mark.parametrize(("method", "suffix"), [("post", "/cancel"), ("post", "/retry"), ("delete", "")])
def test_another_users_job_cannot_be_cancelled_retried_or_deleted(idle_client, run_sql, method, suffix):
    owner, job_id = queued_job(idle_client)
    fail_job_in_db(run_sql, job_id)  # retryable, so only ownership can refuse
    stranger = auth_headers(idle_client)

    for path in (f"/api/v1/jobs/{job_id}{suffix}", f"/api/v1/jobs/{uuid.uuid4()}{suffix}"):
        response = getattr(idle_client, method)(path, headers=stranger)
        assert response.status_code == 404
        assert response.json["error"]["code"] == "job_not_found"
    assert idle_client.get(f"/api/v1/jobs/{job_id}", headers=owner).json["status"] == "failed"
    assert row_counts(run_sql, job_id)["documents"] == 1


def test_deleting_a_live_job_removes_it_and_its_file(idle_client, run_sql):
    headers, job_id = queued_job(idle_client)

    response = idle_client.delete(f"/api/v1/jobs/{job_id}", headers=headers)
    assert response.status_code == 204
    assert response.data == b""
    assert row_counts(run_sql, job_id) == dict.fromkeys(TABLES, 0)
    assert idle_client.get(f"/api/v1/jobs/{job_id}", headers=headers).status_code == 404


def test_deleting_a_completed_job_removes_its_file_chunks_and_sentences(client, worker, run_sql, shared_pdfs):
    headers = auth_headers(client)
    job_id = upload(client, headers, (shared_pdfs / "sf__pdflatex-4-pages.pdf").read_bytes()).json["job_id"]
    assert wait_for_job(client, headers, job_id)["status"] == "completed"
    assert all(count > 0 for count in row_counts(run_sql, job_id).values())

    assert client.delete(f"/api/v1/jobs/{job_id}", headers=headers).status_code == 204
    assert row_counts(run_sql, job_id) == dict.fromkeys(TABLES, 0)
    again = client.delete(f"/api/v1/jobs/{job_id}", headers=headers)
    assert again.status_code == 404
    assert again.json["error"]["code"] == "job_not_found"


def test_work_of_a_cancelled_job_that_reaches_a_worker_is_skipped(
    app, client, idle_client, worker, run_sql, shared_pdfs
):
    headers, job_id = queued_job(idle_client, (shared_pdfs / "sf__pdflatex-4-pages.pdf").read_bytes())
    with app.app_context():
        indexes = start_job(job_id)  # split: the job is processing with pending chunks
    assert indexes == [0, 1]
    assert client.post(f"/api/v1/jobs/{job_id}/cancel", headers=headers).status_code == 200

    # The job's and its chunks' messages are delivered only now, after the cancel.
    task_ids = [str(uuid.uuid4()) for _ in range(3)]
    celery = app.extensions["celery"]
    celery.send_task(PROCESS_JOB_TASK, args=(job_id,), task_id=task_ids[0])
    for index, task_id in zip(indexes, task_ids[1:], strict=True):
        celery.send_task(PROCESS_CHUNK_TASK, args=(job_id, index), task_id=task_id)
    wait_for_tasks(worker, task_ids)

    assert client.get(f"/api/v1/jobs/{job_id}", headers=headers).json["status"] == "cancelled"
    assert [(c["status"], c["attempts"]) for c in chunk_rows(run_sql, job_id).values()] == [
        ("cancelled", 0)
    ] * 2
    assert row_counts(run_sql, job_id)["sentences"] == 0


def test_a_job_cancelled_while_it_runs_keeps_only_what_it_wrote_before(client, worker, run_sql, shared_pdfs):
    headers = auth_headers(client)
    job_id = upload(client, headers, (shared_pdfs / "pdfjs__tracemonkey.pdf").read_bytes()).json["job_id"]

    cancelled = client.post(f"/api/v1/jobs/{job_id}/cancel", headers=headers)
    assert cancelled.status_code == 200
    time.sleep(1.5)  # chunks already handed to the worker finish, or stop, meanwhile

    job = client.get(f"/api/v1/jobs/{job_id}?sentences_limit=5000", headers=headers).json
    assert job["status"] == "cancelled"
    assert job["finished_at"] == cancelled.json["finished_at"]
    done = [c for c in job["chunks"] if c["status"] == "completed"]
    assert job["completed_chunks"] == cancelled.json["completed_chunks"] == len(done)
    assert len(job["sentences"]) == job["sentence_count"] == sum(c["result"]["sentence_count"] for c in done)


def test_a_job_that_failed_before_splitting_is_retried_from_the_start(
    client, idle_client, worker, run_sql, shared_pdfs
):
    headers, job_id = queued_job(idle_client, (shared_pdfs / "sf__pdflatex-4-pages.pdf").read_bytes())
    fail_job_in_db(run_sql, job_id)
    [(old_task_id,)] = run_sql("SELECT celery_task_id FROM jobs WHERE id = :id", id=job_id)

    response = client.post(f"/api/v1/jobs/{job_id}/retry", headers=headers)
    assert response.status_code == 202
    assert response.headers["Location"] == f"/api/v1/jobs/{job_id}"
    assert (response.json["error"], response.json["finished_at"]) == (None, None)
    [(new_task_id,)] = run_sql("SELECT celery_task_id FROM jobs WHERE id = :id", id=job_id)
    assert new_task_id not in (None, old_task_id)

    job = wait_for_job(client, headers, job_id)
    assert job["status"] == "completed", job
    assert job["sentence_count"] > 0


def test_retrying_a_failed_job_reruns_only_its_unfinished_chunk(client, worker, run_sql, shared_pdfs):
    headers = auth_headers(client)
    job_id = upload(client, headers, (shared_pdfs / "pdfjs__tracemonkey.pdf").read_bytes()).json["job_id"]
    assert wait_for_job(client, headers, job_id)["status"] == "completed"
    sentences = all_sentences(client, headers, job_id)
    before = chunk_rows(run_sql, job_id)
    # Chunk 2 ran out of attempts and failed the job; the other four had completed.
    run_sql(
        "UPDATE chunks SET status = 'failed', error_code = 'worker_lost', attempts = 3, result = NULL"
        ' WHERE job_id = :id AND "index" = 2',
        id=job_id,
    )
    run_sql("DELETE FROM sentences WHERE job_id = :id AND chunk_index = 2", id=job_id)
    run_sql("UPDATE jobs SET completed_chunks = 4, progress_percent = 80 WHERE id = :id", id=job_id)
    fail_job_in_db(run_sql, job_id)

    response = client.post(f"/api/v1/jobs/{job_id}/retry", headers=headers)
    assert response.status_code == 202
    assert response.json["current_step"] == "Retrying 1 of 5 chunks"
    assert response.json["status"] in {"processing", "completed"}
    assert response.json["error"] is None

    job = wait_for_job(client, headers, job_id)
    assert (job["status"], job["completed_chunks"], job["progress_percent"]) == ("completed", 5, 100)
    after = chunk_rows(run_sql, job_id)
    assert (after[2]["status"], after[2]["attempts"], after[2]["error_code"]) == ("completed", 1, None)
    for index in (0, 1, 3, 4):
        assert after[index] == before[index]  # not run again
    assert all_sentences(client, headers, job_id) == sentences
    assert row_counts(run_sql, job_id)["sentences"] == len(sentences)


def test_retry_while_the_broker_is_down_keeps_the_work_for_maintenance(
    broker_down_client, idle_client, run_sql
):
    headers, unsplit = queued_job(idle_client, PDF_HEADER + b"unsplit")
    split = upload(idle_client, headers, PDF_HEADER + b"split").json["job_id"]
    run_sql("UPDATE jobs SET total_chunks = 2, completed_chunks = 1 WHERE id = :id", id=split)
    run_sql(
        'INSERT INTO chunks (job_id, "index", first_page, last_page, status, attempts, error_code) VALUES'
        " (:id, 0, 1, 3, 'completed', 1, NULL), (:id, 1, 4, 5, 'failed', 3, 'timeout')",
        id=split,
    )
    for job_id in (unsplit, split):
        fail_job_in_db(run_sql, job_id)
        assert broker_down_client.post(f"/api/v1/jobs/{job_id}/retry", headers=headers).status_code == 202

    # The sweeper enqueues pending jobs; the reaper republishes pending chunks.
    job = broker_down_client.get(f"/api/v1/jobs/{unsplit}", headers=headers).json
    assert (job["status"], job["current_step"], job["error"]) == ("pending", "Waiting for the queue", None)
    assert broker_down_client.get(f"/api/v1/jobs/{split}", headers=headers).json["status"] == "processing"
    chunks = chunk_rows(run_sql, split)
    assert (chunks[0]["status"], chunks[0]["attempts"]) == ("completed", 1)
    assert (chunks[1]["status"], chunks[1]["attempts"], chunks[1]["error_code"]) == ("pending", 0, None)
    assert chunks[1]["heartbeat_at"] is not None
