"""What held against a hostile client and must keep holding (issue 11).

Someone else's job is as absent as a missing one on every job endpoint; forged,
``alg=none``, expired and refresh tokens open none of them; uploaded filenames are
sanitised; the page inserts server text as text only. The job endpoints are read from
the URL map, so a new one is covered as soon as it exists.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid

import jwt
import pytest
from flask import Flask

from tests.support import PASSWORD, REPO_ROOT, auth_headers, upload

PDF_HEADER = b"%PDF-1.7\n"
# What an endpoint needs besides the job id to reach its job lookup (else it answers 422 first).
REQUIRED_QUERY = {"api.search.search": "q=x"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def job_endpoints(app: Flask) -> list[tuple[str, str, str]]:
    """Every (method, rule, endpoint) of the app that names one job."""
    return sorted(
        (method, rule.rule, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if "job_id" in rule.arguments
        for method in rule.methods - IGNORED_METHODS
    )


def call(client, method: str, rule: str, endpoint: str, job_id: str, headers: dict[str, str]):
    path = rule.replace("<job_id>", job_id)
    query = REQUIRED_QUERY.get(endpoint)
    return client.open(f"{path}?{query}" if query else path, method=method, headers=headers)


def test_the_url_map_has_the_job_endpoints_the_issue_counts(app):
    assert len(job_endpoints(app)) >= 10


def test_another_users_job_is_not_found_on_every_job_endpoint(idle_client):
    owner, stranger = auth_headers(idle_client), auth_headers(idle_client)
    job_id = upload(idle_client, owner, PDF_HEADER).json["job_id"]
    missing = str(uuid.uuid4())

    for method, rule, endpoint in job_endpoints(idle_client.application):
        theirs = call(idle_client, method, rule, endpoint, job_id, stranger)
        absent = call(idle_client, method, rule, endpoint, missing, stranger)
        assert (theirs.status_code, theirs.json) == (404, absent.json), f"{method} {rule}"
        assert theirs.json["error"]["code"] == "job_not_found", f"{method} {rule}"

    assert idle_client.get(f"/api/v1/jobs/{job_id}", headers=owner).status_code == 200  # nothing was done


def encoded(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def bad_tokens(client) -> dict[str, str]:
    """Tokens an attacker could present for a real user, built from that user's own tokens."""
    email = f"tokens-{uuid.uuid4().hex[:8]}@example.com"
    auth_headers(client, email)
    tokens = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    secret = client.application.config["JWT_SECRET_KEY"]
    now = int(time.time())
    return {
        "forged": jwt.encode(claims, "not-the-server-secret-" * 2, algorithm="HS256"),
        "alg=none": f"{encoded({'alg': 'none', 'typ': 'JWT'})}.{encoded(claims)}.",
        "expired": jwt.encode(claims | {"iat": now - 7200, "nbf": now - 7200, "exp": now - 3600}, secret),
        "refresh as access": tokens["refresh_token"],
    }


@pytest.mark.parametrize("kind", ["forged", "alg=none", "expired", "refresh as access"])
def test_bad_tokens_open_no_job_endpoint(idle_client, kind):
    token = bad_tokens(idle_client)[kind]
    job_id = upload(idle_client, auth_headers(idle_client), PDF_HEADER).json["job_id"]
    headers = {"Authorization": f"Bearer {token}"}

    endpoints = [("GET", "/api/v1/jobs", "api.jobs.list_jobs"), ("POST", "/api/v1/jobs", "api.jobs.upload")]
    for method, rule, endpoint in endpoints + job_endpoints(idle_client.application):
        response = call(idle_client, method, rule, endpoint, job_id, headers)
        assert response.status_code == 401, f"{kind}: {method} {rule} answered {response.status_code}"
        assert response.json["error"]["code"] in {"invalid_token", "token_expired"}, response.json


@pytest.mark.parametrize(
    ("uploaded", "stored"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        (r"C:\\Users\\me\\..\\secret.pdf", "secret.pdf"),  # backslashes escaped, as multipart quoting wants
        ("report\x0bSet\x07-Cookie.pdf", "reportSet-Cookie.pdf"),
        ("tab\there.pdf", "tabhere.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # a right-to-left override hides the real extension
        ("   ...", "document.pdf"),
        ("x" * 1000 + ".pdf", "x" * 200),
    ],
)
def test_uploaded_filenames_are_sanitised_and_exports_name_safe_files(idle_client, run_sql, uploaded, stored):
    headers = auth_headers(idle_client)
    job_id = upload(idle_client, headers, PDF_HEADER, uploaded).json["job_id"]
    assert idle_client.get(f"/api/v1/jobs/{job_id}", headers=headers).json["filename"] == stored

    run_sql("UPDATE jobs SET status = 'completed' WHERE id = :id", id=job_id)
    export = idle_client.get(f"/api/v1/jobs/{job_id}/export?format=csv", headers=headers)
    disposition = export.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="[A-Za-z0-9._-]+\.csv"', disposition), disposition


def test_a_filename_that_breaks_the_multipart_framing_is_a_422(idle_client):
    response = upload(idle_client, auth_headers(idle_client), PDF_HEADER, "report\r\nSet-Cookie: x=1.pdf")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"


# Ways a script turns a string into markup or code.
HTML_SINKS = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser|srcdoc"
    r"|\beval\(|new Function|setTimeout\(\s*[\"'`]"
)
COMMENTS = re.compile(r"/\*[\s\S]*?\*/|^[ \t]*//[^\n]*", re.MULTILINE)
SAFE_ATTRIBUTES = re.compile(r"className|text|type|max|value|role|\"(data|aria)-[a-z-]+\"")


def test_the_page_inserts_server_text_only_as_text():
    script = COMMENTS.sub("", (REPO_ROOT / "app/web/static/app.js").read_text())
    assert not HTML_SINKS.findall(script)
    # Elements are built with el(tag, {attributes}); none may be an href, src, style or handler.
    attributes = re.findall(r"\bel\(\s*\"[a-z0-9]+\",\s*\{([^}]*)\}", script)
    assert attributes, "the page builds no elements with el(): update this test"
    for listed in attributes:
        for key in re.findall(r"(?:^|,)\s*(\"[^\"]+\"|[A-Za-z]+)\s*:", listed):
            assert SAFE_ATTRIBUTES.fullmatch(key), f"el() sets attribute {key}"
    template = (REPO_ROOT / "app/web/templates/web/index.html").read_text()
    assert "|safe" not in template.replace(" ", "") and "<script>" not in template
