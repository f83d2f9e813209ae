"""The whole path with a real worker: upload, chunked processing, polling, results."""

from __future__ import annotations

from tests.support import auth_headers, upload, wait_for_job


def test_upload_is_processed_in_chunks_until_completed(client, worker, shared_pdfs):
    headers = auth_headers(client)
    data = (shared_pdfs / "pdfjs__tracemonkey.pdf").read_bytes()

    accepted = upload(client, headers, data, "tracemonkey.pdf")
    assert accepted.status_code == 202
    assert accepted.headers["Location"] == f"/api/v1/jobs/{accepted.json['job_id']}"
    assert accepted.json["status"] == "queued"

    job = wait_for_job(client, headers, accepted.json["job_id"])
    assert job["status"] == "completed", job
    assert job["progress_percent"] == 100
    assert job["page_count"] == 14
    assert job["total_chunks"] == job["completed_chunks"] == 5  # CHUNK_PAGES=3 in the suite
    assert [c["pages"] for c in job["chunks"]] == [[1, 3], [4, 6], [7, 9], [10, 12], [13, 14]]
    assert all(c["status"] == "completed" and c["attempts"] == 1 for c in job["chunks"])
    assert job["sentence_count"] == sum(c["result"]["sentence_count"] for c in job["chunks"]) > 300
    first = job["sentences"][0]
    assert first["page"] == 1
    assert first["text"].startswith("Trace-based Just-in-Time Type Specialization")
    assert first["analysis"]["stats"]["words"] == len(first["text"].split())
    pages = [s["page"] for s in job["sentences"]]
    assert pages == sorted(pages) and pages[-1] == 14
    assert job["started_at"] and job["finished_at"] and job["error"] is None


def test_sentences_are_paged_with_offset_and_limit(client, worker, shared_pdfs):
    headers = auth_headers(client)
    accepted = upload(client, headers, (shared_pdfs / "sf__pdflatex-4-pages.pdf").read_bytes())
    job = wait_for_job(client, headers, accepted.json["job_id"])

    page = client.get(
        f"/api/v1/jobs/{job['job_id']}?sentences_offset=2&sentences_limit=3", headers=headers
    ).json
    assert page["sentences"] == job["sentences"][2:5]
    assert page["sentences_offset"] == 2
