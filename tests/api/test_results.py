"""Reading a job's results: paginated and filtered sentences, chunks, and streamed exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from app.jobs.export import spreadsheet_safe
from tests.support import auth_headers, upload, wait_for_job

PDF_HEADER = b"%PDF-1.7\n"
# Values the filter tests write into the sentence columns, whatever the analyzers stored.
MARK_COLUMNS = """
    UPDATE sentences SET
        sentiment = (ARRAY['positive', 'negative', 'neutral'])[position % 3 + 1],
        has_pii = (position % 4 = 0),
        language = CASE WHEN page = 2 THEN 'de' ELSE 'en' END
    WHERE job_id = :id
"""


# Every analyzer that fills a column or a document result, but not the costly embeddings.
ANALYSES = ("stats", "language", "sentiment", "pii", "keywords")


def run_job(app, shared_pdfs, name: str) -> tuple[dict[str, str], dict]:
    client = app.test_client()
    headers = auth_headers(client)
    accepted = upload(client, headers, (shared_pdfs / name).read_bytes(), name, ",".join(ANALYSES))
    job = wait_for_job(client, headers, accepted.json["job_id"])
    assert job["status"] == "completed", job
    return headers, job


def execute(app, statement: str, **params: object) -> None:
    from app.extensions import db

    with app.app_context(), db.engine.begin() as connection:
        connection.execute(sa.text(statement), params)


@pytest.fixture(scope="module")
def tracemonkey(app, worker, shared_pdfs) -> tuple[dict[str, str], dict]:
    """A completed 14-page job (5 chunks), left as the analyzers wrote it."""
    return run_job(app, shared_pdfs, "pdfjs__tracemonkey.pdf")


@pytest.fixture(scope="module")
def marked(app, worker, shared_pdfs) -> tuple[dict[str, str], dict]:
    """A completed 4-page job whose sentence columns and document results the test set."""
    headers, job = run_job(app, shared_pdfs, "sf__pdflatex-4-pages.pdf")
    execute(app, MARK_COLUMNS, id=job["job_id"])
    results = {
        "analyses": {
            "keywords": {"status": "completed"},
            "summary": {"status": "partial", "failed_chunks": 1},
        },
        "keywords": [{"phrase": f"phrase {n}", "score": 1 - n / 100} for n in range(25)],
        "summary": [{"text": "Hello.", "page": 1, "score": 0.9, "chunk_index": 0, "position": 0}],
        "sentiment": {"label": "neutral", "mean_compound": 0.0},
    }
    execute(
        app,
        "UPDATE jobs SET results = :results, analyses = :analyses WHERE id = :id",
        results=json.dumps(results),
        analyses=json.dumps(["stats", "keywords", "summary"]),
        id=job["job_id"],
    )
    return headers, job


def all_sentences(client, headers: dict[str, str], job_id: str, query: str = "") -> dict:
    response = client.get(f"/api/v1/jobs/{job_id}/sentences?per_page=1000&{query}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def export(client, headers: dict[str, str], job_id: str, fmt: str):
    """The response and its body, and how many pieces the body came in."""
    response = client.get(f"/api/v1/jobs/{job_id}/export?format={fmt}", headers=headers)
    pieces = list(response.iter_encoded())
    response.close()
    return response, b"".join(pieces).decode(), len(pieces)


def test_sentences_are_paged_in_reading_order_with_totals_and_links(client, tracemonkey):
    headers, job = tracemonkey
    first = client.get(f"/api/v1/jobs/{job['job_id']}/sentences?per_page=200", headers=headers).json
    assert first["total"] == job["sentence_count"] > 300
    assert first["pages"] == -(-first["total"] // 200)
    assert first["links"]["prev"] is None
    assert first["sentences"][0]["page"] == 1
    assert first["sentences"][0]["text"].startswith("Trace-based Just-in-Time Type Specialization")

    collected, link, pages = [], first["links"]["self"], []
    while link:
        page = client.get(link, headers=headers).json
        collected += page["sentences"]
        pages.append(page)
        link = page["links"]["next"]
    assert len(pages) == first["pages"]
    assert pages[1]["links"]["prev"] == first["links"]["self"]
    assert pages[1]["offset"] == 200
    assert len(collected) == job["sentence_count"]
    order = [(s["chunk_index"], s["position"]) for s in collected]
    assert order == sorted(order) and len(set(order)) == len(order)
    assert [s["page"] for s in collected] == sorted(s["page"] for s in collected)
    assert [(s["page"], s["text"]) for s in job["sentences"]] == [(s["page"], s["text"]) for s in collected][
        : len(job["sentences"])
    ]


def test_a_page_past_the_end_is_empty_and_links_back(client, tracemonkey):
    headers, job = tracemonkey
    page = client.get(f"/api/v1/jobs/{job['job_id']}/sentences?page=99&per_page=500", headers=headers).json
    assert page["sentences"] == [] and page["links"]["next"] is None
    assert parse_qs(urlsplit(page["links"]["prev"]).query) == {"page": ["2"], "per_page": ["500"]}


def test_page_range_keeps_the_sentences_of_those_pages(client, tracemonkey):
    headers, job = tracemonkey
    everything = all_sentences(client, headers, job["job_id"])["sentences"]
    ranged = all_sentences(client, headers, job["job_id"], "min_page=4&max_page=6")
    expected = [s for s in everything if 4 <= s["page"] <= 6]
    assert ranged["sentences"] == expected and ranged["total"] == len(expected) > 0
    assert all_sentences(client, headers, job["job_id"], "min_page=14")["total"] == sum(
        s["page"] == 14 for s in everything
    )


FILTERS: dict[str, Callable[[dict], bool]] = {
    "sentiment=positive": lambda s: s["sentiment"] == "positive",
    "sentiment=negative": lambda s: s["sentiment"] == "negative",
    "has_pii=true": lambda s: s["has_pii"] is True,
    "has_pii=false": lambda s: s["has_pii"] is False,
    "language=de": lambda s: s["language"] == "de",
    "sentiment=neutral&has_pii=true&min_page=2&max_page=3": lambda s: (
        s["sentiment"] == "neutral" and s["has_pii"] and 2 <= s["page"] <= 3
    ),
}


@pytest.mark.parametrize("query", FILTERS)
def test_column_filters_keep_only_matching_sentences(client, marked, query):
    headers, job = marked
    everything = all_sentences(client, headers, job["job_id"])["sentences"]
    filtered = all_sentences(client, headers, job["job_id"], query)
    expected = [s for s in everything if FILTERS[query](s)]
    assert 0 < len(expected) < len(everything)
    assert filtered["sentences"] == expected and filtered["total"] == len(expected)
    assert query in filtered["links"]["self"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("page=x", "page"),
        ("per_page=0", "per_page"),
        ("per_page=1001", "per_page"),
        ("min_page=0", "min_page"),
        ("max_page=-1", "max_page"),
        ("min_page=5&max_page=2", "max_page"),
        ("sentiment=happy", "sentiment"),
        ("has_pii=maybe", "has_pii"),
        ("language=", "language"),
        ("language=%00", "language"),
    ],
)
def test_bad_sentence_queries_are_422_naming_the_field(client, query, field):
    headers = auth_headers(client)
    job_id = upload(client, headers, PDF_HEADER).json["job_id"]
    response = client.get(f"/api/v1/jobs/{job_id}/sentences?{query}", headers=headers)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert list(response.json["error"]["fields"]) == [field]


def test_job_detail_is_small_and_links_to_the_rest(client, tracemonkey):
    headers, job = tracemonkey
    assert job["chunk_results"] == job["chunks"] and len(job["chunks"]) == 5
    assert list(job["analyses"]) == list(ANALYSES)
    assert all(status["status"] in {"completed", "partial", "failed"} for status in job["analyses"].values())
    assert len(job["keywords"]) <= 10
    assert set(job["links"]) == {"self", "sentences", "search", "export", "chunks"}
    assert job["links"]["search"] == f"/api/v1/jobs/{job['job_id']}/search"
    for name in ("self", "sentences", "export", "chunks"):
        response = client.get(job["links"][name], headers=headers)
        response.close()
        assert response.status_code == 200, name
    chunks = client.get(job["links"]["chunks"], headers=headers).json["chunks"]
    assert chunks == job["chunks"]


def test_job_detail_shows_the_summary_top_ten_keywords_and_analysis_statuses(client, marked):
    headers, job = marked
    detail = client.get(f"/api/v1/jobs/{job['job_id']}", headers=headers).json
    assert detail["keywords"] == [{"phrase": f"phrase {n}", "score": 1 - n / 100} for n in range(10)]
    assert detail["summary"][0]["text"] == "Hello."
    assert detail["document"] == {"sentiment": {"label": "neutral", "mean_compound": 0.0}}
    assert detail["analyses"] == {
        "stats": {"status": "not_run"},  # the results the test wrote do not name it
        "keywords": {"status": "completed"},
        "summary": {"status": "partial", "failed_chunks": 1},
    }


def test_a_queued_job_has_no_sentences_yet_and_cannot_be_exported(idle_client):
    headers = auth_headers(idle_client)
    job_id = upload(idle_client, headers, PDF_HEADER).json["job_id"]
    detail = idle_client.get(f"/api/v1/jobs/{job_id}", headers=headers).json
    assert detail["sentence_count"] == 0 and "sentences" not in detail
    assert detail["analyses"] and all(
        status == {"status": "pending"} for status in detail["analyses"].values()
    )
    page = idle_client.get(f"/api/v1/jobs/{job_id}/sentences", headers=headers).json
    assert (page["job_status"], page["total"], page["sentences"]) == ("queued", 0, [])
    refused = idle_client.get(f"/api/v1/jobs/{job_id}/export", headers=headers)
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "job_not_completed"


def parse_export(fmt: str, body: str) -> tuple[dict | None, list[dict]]:
    """The header object (none in CSV) and the sentences of an export."""
    if fmt == "json":
        document = json.loads(body)
        return {k: v for k, v in document.items() if k != "sentences"}, document["sentences"]
    if fmt == "ndjson":
        lines = [json.loads(line) for line in body.splitlines()]
        return lines[0], lines[1:]
    return None, list(csv.DictReader(io.StringIO(body)))


@pytest.mark.parametrize(("fmt", "mimetype"), [("json", "json"), ("ndjson", "x-ndjson"), ("csv", "text/csv")])
def test_export_streams_every_sentence(client, tracemonkey, fmt, mimetype):
    headers, job = tracemonkey
    response, body, pieces = export(client, headers, job["job_id"], fmt)
    assert response.status_code == 200
    assert "Content-Length" not in response.headers and pieces > 1  # streamed, not built in memory
    assert mimetype in response.content_type
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=") and disposition.endswith(f'.{fmt}"')

    header, sentences = parse_export(fmt, body)
    expected = all_sentences(client, headers, job["job_id"])["sentences"]
    assert len(sentences) == job["sentence_count"] == len(expected)
    if header is None:  # CSV: text a spreadsheet would run as a formula leaves quoted (this PDF has some)
        assert [(int(s["page"]), int(s["start"]), int(s["end"]), s["text"]) for s in sentences] == [
            (s["page"], s["start"], s["end"], spreadsheet_safe(s["text"])) for s in expected
        ]
        assert [json.loads(s["analysis"]) for s in sentences] == [s["analysis"] for s in expected]
    else:
        assert sentences == expected  # embeddings are not among the fields
        assert header["job"]["job_id"] == job["job_id"]
        assert header["job"]["sentence_count"] == job["sentence_count"]
        assert header["chunks"] == job["chunks"]
        assert set(header["results"]["analyses"]) == set(job["analyses"])


def test_export_of_an_unknown_format_is_422(client, tracemonkey):
    headers, job = tracemonkey
    response = client.get(f"/api/v1/jobs/{job['job_id']}/export?format=xml", headers=headers)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert list(response.json["error"]["fields"]) == ["format"]


@pytest.mark.parametrize("path", ["sentences", "chunks", "export"])
def test_other_users_results_are_not_found(client, tracemonkey, path):
    _, job = tracemonkey
    response = client.get(f"/api/v1/jobs/{job['job_id']}/{path}", headers=auth_headers(client))
    assert response.status_code == 404
    assert response.json["error"]["code"] == "job_not_found"


def test_exported_sentences_come_through_a_server_side_cursor(app_context, tracemonkey):
    from app.extensions import db
    from app.jobs.sentences import stream_sentences

    stream = stream_sentences(tracemonkey[1]["job_id"])
    assert next(stream)["page"] == 1
    cursors = db.session.scalars(sa.text("SELECT statement FROM pg_cursors")).all()
    stream.close()
    assert any("DECLARE" in cursor and "FROM sentences" in cursor for cursor in cursors), cursors


COLUMN_OF_ANALYSIS = {"sentiment": "sentiment", "pii": "has_pii", "language": "language"}


def test_the_registered_analyzers_fill_the_columns_the_filters_use(client, tracemonkey):
    headers, job = tracemonkey
    everything = all_sentences(client, headers, job["job_id"])["sentences"]
    for analysis, column in COLUMN_OF_ANALYSIS.items():
        values = {s[column] for s in everything}
        assert values - {None}, f"{analysis} filled no {column}"
        for value in values - {None}:
            query = f"{column}={str(value).lower()}"
            filtered = all_sentences(client, headers, job["job_id"], query)
            assert filtered["total"] == sum(s[column] == value for s in everything), query
            assert all(s[column] == value for s in filtered["sentences"]), query
