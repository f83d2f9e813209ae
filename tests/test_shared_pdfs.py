"""Every third-party PDF in ../shared/pdfs ends the way its manifest says."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.support import auth_headers, upload, wait_for_job

MANIFEST = Path(__file__).resolve().parents[2] / "shared" / "pdfs" / "MANIFEST.tsv"
REFUSED_AT_UPLOAD = {
    "error:not_pdf": (415, "unsupported_type"),
    "error:empty": (422, "empty_file"),
}
FAILED_IN_WORKER = {"error:encrypted": "encrypted_pdf", "error:corrupt": "corrupt_pdf"}


def manifest_rows() -> list[dict]:
    if not MANIFEST.is_file():
        return [{"file": "MANIFEST.tsv is missing", "expected_outcome": "missing"}]
    with MANIFEST.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.mark.parametrize("row", manifest_rows(), ids=lambda row: row["file"])
def test_shared_pdf_ends_as_its_manifest_says(client, worker, shared_pdfs, row):
    headers = auth_headers(client)
    response = upload(client, headers, (shared_pdfs / row["file"]).read_bytes(), row["file"])
    outcome = row["expected_outcome"]

    if outcome in REFUSED_AT_UPLOAD:
        status, code = REFUSED_AT_UPLOAD[outcome]
        assert response.status_code == status
        assert response.json["error"]["code"] == code
        return

    assert response.status_code == 202, response.json
    job = wait_for_job(client, headers, response.json["job_id"])
    if outcome in FAILED_IN_WORKER:
        assert job["status"] == "failed"
        assert job["error"]["code"] == FAILED_IN_WORKER[outcome]
        assert job["error"]["message"]
        return

    assert outcome == "ok"
    assert job["status"] == "completed", job
    assert job["page_count"] == int(row["pages"])
    text = " ".join(s["text"] for s in job["sentences"])
    if int(row["text_chars"]) == 0:
        assert job["sentences"] == []
    else:
        first_word = row["first_words"].split()[0]
        assert first_word in text
