"""Semantic search over a job's stored sentence embeddings."""

from __future__ import annotations

import io
import tracemalloc
import uuid

import numpy as np
import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.analysis.embeddings import DIMENSIONS, embed
from tests.api.conftest import extra_app
from tests.support import auth_headers, wait_for_job

PDF_HEADER = b"%PDF-1.7\n"

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


def test_searches_are_rate_limited_per_user_with_retry_after(app):
    with extra_app(SEARCH_RATE_LIMIT="2/minute") as limited_app:
        client = limited_app.test_client()
        headers, other = auth_headers(client), auth_headers(client)
        path = f"/api/v1/jobs/{uuid.uuid4()}/search?q=x"
        assert [client.get(path, headers=headers).status_code for _ in range(2)] == [404, 404]
        refused = client.get(path, headers=headers)
        assert refused.status_code == 429
        assert refused.json["error"]["code"] == "rate_limited"
        assert 0 < int(refused.headers["Retry-After"]) <= 61
        assert client.get(path, headers=other).status_code == 404


SYNTHETIC_SENTENCES = 40_000  # 60 MB of vectors: what loading them at once would hold, and more
SEARCH_PEAK_BOUND_MB = 20


def synthetic_job(idle_client, run_sql, query: str, sentences: int) -> tuple[dict[str, str], str]:
    """A completed job of *sentences* random embeddings; the sentence at (7, 3) is the query itself."""
    headers = auth_headers(idle_client)
    job_id = upload_with(idle_client, headers, PDF_HEADER, "embeddings").json["job_id"]
    run_sql("UPDATE jobs SET status = 'completed' WHERE id = :id", id=job_id)
    rng = np.random.default_rng(11)
    noise = rng.standard_normal((16, DIMENSIONS)).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    run_sql(
        'INSERT INTO sentences (job_id, chunk_index, position, page, start, "end", text, analysis, embedding)'
        " SELECT :id, i / 1000, i % 1000, i / 1000 + 1, 0, 9, 'Sentence ' || i, '{}', (:vectors)[i % 16 + 1]"
        " FROM generate_series(0, :count - 1) AS i",
        id=job_id,
        count=sentences,
        vectors=[vector.tobytes() for vector in noise],
    )
    exact = embed([query])[0].tobytes()
    run_sql(
        "UPDATE sentences SET embedding = :exact WHERE job_id = :id AND chunk_index = 7 AND position = 3",
        id=job_id,
        exact=exact,
    )
    return headers, job_id


def test_a_search_holds_a_bounded_amount_of_memory_however_large_the_job(idle_client, run_sql):
    query = "payment terms of the contract"
    headers, job_id = synthetic_job(idle_client, run_sql, query, SYNTHETIC_SENTENCES)
    search(idle_client, headers, job_id, "q=warm+up&k=1")  # loads the model first

    tracemalloc.start()
    try:
        found = search(idle_client, headers, job_id, f"q={query}&k=3")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < SEARCH_PEAK_BOUND_MB * 1024 * 1024, f"peak {peak / 1024 / 1024:.1f} MB"
    best = found["results"][0]
    assert (best["chunk_index"], best["position"], best["page"], best["text"]) == (7, 3, 8, "Sentence 7003")
    assert best["score"] == pytest.approx(1.0, abs=1e-3)
