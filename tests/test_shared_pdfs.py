"""Every third-party PDF in ../shared/pdfs ends the way its manifest says."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from app.analysis import available_analyses, resolve_analyses
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
    data = (shared_pdfs / row["file"]).read_bytes()
    response = upload(client, headers, data, row["file"], analyses=",".join(available_analyses()))
    outcome = row["expected_outcome"]

    if outcome in REFUSED_AT_UPLOAD:
        status, code = REFUSED_AT_UPLOAD[outcome]
        assert response.status_code == status
        assert response.json["error"]["code"] == code
        return

    assert response.status_code == 202, response.json
    job = wait_for_job(client, headers, response.json["job_id"], timeout=240)  # embeddings on a CPU
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
        assert_every_analysis_ran(client, headers, job)


def assert_every_analysis_ran(client, headers: dict[str, str], job: dict) -> None:
    """Every default analysis completed and its results are where the API says."""
    assert {name: status["status"] for name, status in job["analyses"].items()} == dict.fromkeys(
        resolve_analyses(None), "completed"
    )
    assert job["summary"] and all(item["page"] >= 1 and item["text"] for item in job["summary"])
    assert job["keywords"] and all(item["phrase"] for item in job["keywords"])
    assert job["document"]["language"]["code"]
    assert job["document"]["sentiment"]["label"] in {"positive", "negative", "neutral"}
    assert "counts" in job["document"]["pii"]

    sentences = client.get(f"/api/v1/jobs/{job['job_id']}/sentences?per_page=1000", headers=headers).json
    judged = [s for s in sentences["sentences"] if s["language"]]
    assert judged, "no sentence has a language"
    for sentence in sentences["sentences"]:
        assert 1 <= sentence["page"] <= job["page_count"]
        assert sentence["sentiment"] in {"positive", "negative", "neutral"}
        assert isinstance(sentence["has_pii"], bool)

    known = job["summary"][0]["text"]
    found = client.get(f"/api/v1/jobs/{job['job_id']}/search", query_string={"q": known}, headers=headers)
    assert found.status_code == 200, found.json
    assert found.json["results"][0]["text"] == known
