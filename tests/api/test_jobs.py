"""Uploading, listing and reading jobs through the API."""

from __future__ import annotations

import io

import pytest

from app import create_app
from config import TestConfig
from tests.support import auth_headers, upload

PDF_HEADER = b"%PDF-1.7\n"


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"", 422, "empty_file"),
        (b"<html>hello</html>", 415, "unsupported_type"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 100, 415, "unsupported_type"),
    ],
)
def test_bad_uploads_are_refused_with_a_code(client, data, status, code):
    response = upload(client, auth_headers(client), data, "looks-fine.pdf")
    assert response.status_code == status
    assert response.json["error"]["code"] == code


@pytest.mark.parametrize("data", [{"other": "x"}, {"file": "not a file"}, None])
def test_upload_without_a_file_is_a_422_naming_the_field(client, data):
    response = client.post("/api/v1/jobs", headers=auth_headers(client), data=data)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert "file" in response.json["error"]["fields"]


def test_upload_over_the_size_limit_is_a_413(client, app):
    too_big = PDF_HEADER + b"0" * app.config["MAX_UPLOAD_BYTES"]
    response = upload(client, auth_headers(client), too_big)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"


def test_upload_is_committed_with_metadata_before_any_worker_runs(client):
    headers = auth_headers(client)
    response = upload(client, headers, PDF_HEADER + b"not really", "../../etc/My\x00 Report.pdf")
    assert response.status_code == 202
    job = client.get(response.headers["Location"], headers=headers).json
    assert job["filename"] == "My Report.pdf"
    assert job["size_bytes"] == len(PDF_HEADER) + 10
    assert len(job["sha256"]) == 64
    assert job["status"] in {"queued", "processing", "failed"}


def test_the_alias_endpoint_accepts_uploads_too(client):
    headers = auth_headers(client)
    response = client.post(
        "/api/v1/process-pdf-async", headers=headers, data={"file": (io.BytesIO(PDF_HEADER), "a.pdf")}
    )
    assert response.status_code == 202
    assert client.get(response.headers["Location"], headers=headers).status_code == 200


def test_other_users_job_is_not_found(client):
    owner, stranger = auth_headers(client), auth_headers(client)
    job_id = upload(client, owner, PDF_HEADER).json["job_id"]

    assert client.get(f"/api/v1/jobs/{job_id}", headers=owner).status_code == 200
    response = client.get(f"/api/v1/jobs/{job_id}", headers=stranger)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "job_not_found"
    assert client.get("/api/v1/jobs", headers=stranger).json["total"] == 0


def test_listing_is_newest_first_and_paginated(client):
    headers = auth_headers(client)
    # Different bytes: the same file again would answer with the first job.
    ids = [upload(client, headers, PDF_HEADER + bytes([n]), f"{n}.pdf").json["job_id"] for n in range(3)]

    first = client.get("/api/v1/jobs?per_page=2", headers=headers).json
    second = client.get("/api/v1/jobs?per_page=2&page=2", headers=headers).json
    assert [j["job_id"] for j in first["jobs"] + second["jobs"]] == ids[::-1]
    assert first["total"] == 3


@pytest.mark.parametrize("query", ["per_page=0", "per_page=1000", "page=abc"])
def test_listing_refuses_bad_paging(client, query):
    response = client.get(f"/api/v1/jobs?{query}", headers=auth_headers(client))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert list(response.json["error"]["fields"]) == [query.split("=")[0]]


def test_uploads_are_rate_limited_per_user_with_retry_after(app, monkeypatch):
    monkeypatch.setenv("UPLOAD_RATE_LIMIT", "2/hour")
    limited = create_app(TestConfig()).test_client()
    headers, other = auth_headers(limited), auth_headers(limited)

    assert [upload(limited, headers, PDF_HEADER + bytes([n])).status_code for n in range(2)] == [202, 202]
    refused = upload(limited, headers, PDF_HEADER)
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 3601  # whole seconds, rounded up
    assert upload(limited, other, PDF_HEADER).status_code == 202


@pytest.mark.parametrize(
    "path", ["/jobs/%00", "/jobs/%00/sentences", "/jobs/%00/events", "/jobs/%00/search?q=x", "/jobs/x/chunks"]
)
def test_a_job_id_that_cannot_exist_is_not_found(client, path):
    response = client.get(f"/api/v1{path}", headers=auth_headers(client))
    assert response.status_code == 404
    assert response.json["error"]["code"] == "job_not_found"


def test_an_upload_runs_the_analyses_it_names_with_what_they_need(client):
    headers = auth_headers(client)
    response = upload(client, headers, PDF_HEADER, analyses="summary, sentiment")
    assert response.status_code == 202, response.json
    detail = client.get(f"/api/v1/jobs/{response.json['job_id']}", headers=headers).json
    assert list(detail["analyses"]) == ["embeddings", "sentiment", "summary"]  # registry order


def test_an_upload_without_analyses_gets_the_configured_default(client, app):
    headers = auth_headers(client)
    response = upload(client, headers, PDF_HEADER + b"% default")
    detail = client.get(f"/api/v1/jobs/{response.json['job_id']}", headers=headers).json
    assert list(detail["analyses"]) == app.config["DEFAULT_ANALYSES"] == ["stats"]


def test_an_unknown_analysis_is_refused_by_name(client):
    response = upload(client, auth_headers(client), PDF_HEADER, analyses="stats,telepathy")
    assert response.status_code == 422
    assert "telepathy" in response.json["error"]["message"]
