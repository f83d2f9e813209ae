"""Semantic search over a job's stored sentence embeddings."""

from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.support import auth_headers, wait_for_job

TRACEMONKEY = "pdfjs__tracemonkey.pdf"
# Paraphrases of sentences on the given pages of the shared PDF, sharing few of their words.
PARAPHRASES = [
    (
        "Tracing virtual machines have trouble optimising loops inside other loops.",
        "Nested loops can be difficult to optimize for tracing VMs.",
        2,
    ),
    (
        "JavaScript only has a floating-point number type and no separate type for integers.",
        "JavaScript has no integer type, only a Number type",
        5,
    ),
]


def upload_with(client, headers: dict[str, str], data: bytes, analyses: str):
    """Upload a PDF asking for some analyses."""
    boundary, body = encode_multipart(
        MultiDict({"file": FileStorage(io.BytesIO(data), "doc.pdf"), "analyses": analyses})
    )
    return client.post(
        "/api/v1/jobs", headers=headers, data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


@pytest.fixture(scope="module")
def searchable(app, worker, shared_pdfs) -> tuple[dict[str, str], dict]:
    """A completed 14-page job (5 chunks) with embeddings and a summary."""
    client = app.test_client()
    headers = auth_headers(client)
    accepted = upload_with(client, headers, (shared_pdfs / TRACEMONKEY).read_bytes(), "summary")
    assert accepted.status_code == 202, accepted.json
    job = wait_for_job(client, headers, accepted.json["job_id"], timeout=240)
    assert job["status"] == "completed", job
    return headers, job


def search(client, headers: dict[str, str], job_id: str, query: str = "q=loops", expect: int = 200) -> dict:
    response = client.get(f"/api/v1/jobs/{job_id}/search?{query}", headers=headers)
    assert response.status_code == expect, response.json
    return response.json


@pytest.mark.parametrize(("paraphrase", "original", "page"), PARAPHRASES)
def test_a_paraphrase_of_a_sentence_ranks_it_first(client, searchable, paraphrase, original, page):
    headers, job = searchable
    found = search(client, headers, job["job_id"], f"q={paraphrase}&k=5")
    assert found["query"] == paraphrase and found["k"] == 5 and len(found["results"]) == 5
    best = found["results"][0]
    assert best["text"].startswith(original) and best["page"] == page
    assert set(best) == {"text", "page", "score", "chunk_index", "position"}
    scores = [result["score"] for result in found["results"]]
    assert scores == sorted(scores, reverse=True) and best["score"] > scores[1]


def test_k_defaults_to_ten(client, searchable):
    headers, job = searchable
    assert len(search(client, headers, job["job_id"])["results"]) == 10


def test_the_job_has_a_summary_in_document_order(client, searchable):
    headers, job = searchable
    detail = client.get(f"/api/v1/jobs/{job['job_id']}", headers=headers).json
    assert detail["analyses"]["embeddings"]["status"] == "completed"
    summary = detail["summary"]
    assert len(summary) == 5 and all(1 <= item["page"] <= 14 for item in summary)
    places = [(item["chunk_index"], item["position"]) for item in summary]
    assert places == sorted(places)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("q=", "q"),
        ("q=%20%20", "q"),
        ("k=3", "q"),
        ("q=x&k=0", "k"),
        ("q=x&k=101", "k"),
        ("q=x&k=ten", "k"),
        ("q=" + "x" * 1001, "q"),
    ],
)
def test_bad_queries_are_422_naming_the_field(client, searchable, query, field):
    headers, job = searchable
    error = search(client, headers, job["job_id"], query, expect=422)["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == [field]


def test_another_users_job_is_not_found(client, searchable):
    _, job = searchable
    stranger = auth_headers(client)
    assert search(client, stranger, job["job_id"], expect=404)["error"]["code"] == "job_not_found"


def test_a_job_without_embeddings_is_409(client, worker, shared_pdfs):
    headers = auth_headers(client)
    accepted = upload_with(client, headers, (shared_pdfs / "sf__pdflatex-4-pages.pdf").read_bytes(), "stats")
    job = wait_for_job(client, headers, accepted.json["job_id"], timeout=120)
    assert job["status"] == "completed"
    assert search(client, headers, job["job_id"], expect=409)["error"]["code"] == "no_embeddings"


def test_a_job_not_yet_completed_is_409(idle_client, shared_pdfs):
    headers = auth_headers(idle_client)
    accepted = upload_with(idle_client, headers, (shared_pdfs / TRACEMONKEY).read_bytes(), "embeddings")
    assert accepted.status_code == 202
    error = search(idle_client, headers, accepted.json["job_id"], expect=409)["error"]
    assert error["code"] == "job_not_completed"
