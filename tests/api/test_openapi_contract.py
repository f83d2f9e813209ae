"""The running API keeps the contract its OpenAPI document states (schemathesis).

The app runs under gunicorn on the suite's PostgreSQL and Redis with the session's
worker. A signed-in user owns one completed job, which every ``{job_id}`` operation
uses (another job is the one DELETE may remove). Schemathesis then sends generated
valid and invalid requests to every operation: any 5xx, undocumented status, content
type, header or body that does not match its schema fails the test.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.chaos.servers import ApiServer
from tests.support import PASSWORD

# Small enough to end well inside two minutes on a loaded two-core machine.
MAX_EXAMPLES = 8
PHASES = "examples,coverage,fuzzing"
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance"
)
SERVER_ENV = {
    "SSE_MAX_SECONDS": "2",  # a generated request to the event stream must not hold the run
    "SSE_POLL_SECONDS": "0.2",
}


def call(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read() or b"{}")


def post_json(url: str, payload: dict, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    return call(url, json.dumps(payload).encode(), {"Content-Type": "application/json"} | (headers or {}))


def upload_pdf(api: str, auth: dict[str, str], pdf: bytes, name: str) -> dict:
    fields = MultiDict({"file": FileStorage(io.BytesIO(pdf), name), "analyses": "stats"})
    boundary, body = encode_multipart(fields)
    status, job = call(
        f"{api}/jobs", body, auth | {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert status == 202, job
    return job


def wait_until_ended(api: str, auth: dict[str, str], job_id: str) -> dict:
    deadline = time.monotonic() + 120
    while True:
        status, job = call(f"{api}/jobs/{job_id}", headers=auth)
        assert status == 200, job
        if job["status"] in {"completed", "failed", "cancelled"}:
            return job
        assert time.monotonic() < deadline, f"The job did not end in 120 s: {job}"
        time.sleep(0.3)


@pytest.fixture
def api_server(app, worker, tmp_path):
    with ApiServer.started(SERVER_ENV, tmp_path / "gunicorn.log") as server:
        yield server


@pytest.fixture
def signed_in_user_with_jobs(api_server, shared_pdfs) -> tuple[str, dict[str, str], str, str]:
    """The API's base URL, a user's bearer header, a completed job of theirs and a spare one."""
    api = f"{api_server.base_url}/api/v1"
    email = f"contract-{os.getpid()}-{time.monotonic_ns()}@example.com"
    assert post_json(f"{api}/auth/register", {"email": email, "password": PASSWORD})[0] == 201
    status, tokens = post_json(f"{api}/auth/login", {"email": email, "password": PASSWORD})
    assert status == 200, tokens
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    pdf = (shared_pdfs / "sf__pdflatex-4-pages.pdf").read_bytes()
    kept = upload_pdf(api, auth, pdf, "kept.pdf")
    spare = upload_pdf(api, auth, pdf + b"\n%spare", "spare.pdf")
    assert wait_until_ended(api, auth, kept["job_id"])["status"] == "completed"
    return api, auth, kept["job_id"], spare["job_id"]


def schemathesis_config(folder: Path, kept_job: str, spare_job: str) -> Path:
    config = folder / "schemathesis.toml"
    config.write_text(
        f"""
[parameters]
"path.job_id" = "{kept_job}"

[[operations]]
include-name = "DELETE /api/v1/jobs/{{job_id}}"
parameters = {{ "path.job_id" = "{spare_job}" }}
"""
    )
    return config


def test_every_operation_keeps_to_the_openapi_document(signed_in_user_with_jobs, tmp_path):
    api, auth, kept_job, spare_job = signed_in_user_with_jobs
    config = schemathesis_config(tmp_path, kept_job, spare_job)
    command = [
        str(Path(sys.executable).parent / "st"),
        "--config-file", str(config),
        "run", f"{api}/openapi.json",
        "--checks", CHECKS,
        "--phases", PHASES,
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", "7",
        "--workers", "2",
        "--request-timeout", "20",
        "--header", f"Authorization: {auth['Authorization']}",
        "--suppress-health-check", "all",
        "--no-shrink",
    ]  # fmt: skip
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600, env=os.environ)
    report = run.stdout[-20000:] + run.stderr[-5000:]
    assert run.returncode == 0, report
    operations = sum(len(methods) for methods in call(f"{api}/openapi.json")[1]["paths"].values())
    assert re.search(rf"Tested: {operations}\b", run.stdout), report
