"""What the platform gives back to a hostile client, under gunicorn and a worker as they ship.

CSV exports of a PDF written to be a spreadsheet attack, /health while PostgreSQL is
down, /metrics after requests with made-up methods, and an upload that declares a body
over the limit (issue 11).
"""

from __future__ import annotations

import csv
import http.client
import io
import random
import socket
import string
import urllib.request
from urllib.parse import urlsplit

from bench.hostile_outputs import FORMULA_TRIGGERS, FORMULAS, live_formulas
from bench.textpdf import make_pages_pdf
from tests.chaos.servers import ApiServer, free_port
from tests.support import shipped_env

RANDOM_METHODS = 500
METRICS_GROWTH_BOUND = 20 * 1024  # one new label set is ~3 KB; one per method was ~2 KB each


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """GET a URL; return the status and the body as text, whatever the status."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_sentences_that_are_formulas_leave_the_csv_export_as_text(outputs_stack):
    api = outputs_stack.api
    headers = api.new_user()
    pdf = make_pages_pdf([*FORMULAS, "A harmless sentence ends the document."])
    with outputs_stack.worker():
        job_id = api.upload(headers, pdf, "formulas.pdf").body["job_id"]
        assert outputs_stack.database.wait_for_jobs([job_id], timeout=90) == {job_id: "completed"}

    sentences = api.call("GET", f"/api/v1/jobs/{job_id}/sentences?per_page=100", headers).body["sentences"]
    texts = [sentence["text"] for sentence in sentences]
    assert sum(text.startswith(FORMULA_TRIGGERS) for text in texts) >= len(FORMULAS), (
        texts
    )  # the attack landed
    status, body = fetch(f"{api.base_url}/api/v1/jobs/{job_id}/export?format=csv", headers)
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(body)))

    assert live_formulas([cell for row in rows for cell in row.values()]) == []
    assert [row["text"] for row in rows] == ["'" + t if t.startswith(FORMULA_TRIGGERS) else t for t in texts]
    outputs_stack.assert_no_server_errors()


def test_health_with_the_database_down_tells_the_public_only_statuses(outputs_stack, tmp_path):
    dead_port = free_port()  # nothing listens: PostgreSQL is down
    token = "hostile-outputs-metrics-token-0123456789"
    env = outputs_stack.env | {
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{dead_port}/docjobs",
        "METRICS_TOKEN": token,
    }
    with ApiServer.started(shipped_env(env), tmp_path / "gunicorn-db-down.log") as server:
        status, public = fetch(f"{server.base_url}/api/v1/health")
        detailed_status, detailed = fetch(
            f"{server.base_url}/api/v1/health", {"Authorization": f"Bearer {token}"}
        )
        log = server.log()

    assert status == 503
    assert public.strip() == (
        '{"status":"unavailable","components":{"database":{"status":"error"},"broker":{"status":"ok"}}}'
    )
    assert detailed_status == 503 and str(dead_port) in detailed and "latency_ms" in detailed
    assert str(dead_port) in log  # the operator still reads why


def metrics_text(outputs_stack) -> str:
    token = outputs_stack.env.get("METRICS_TOKEN")
    status, body = fetch(
        outputs_stack.api.base_url + "/metrics", {"Authorization": f"Bearer {token}"} if token else {}
    )
    assert status == 200, body
    return body


def test_made_up_http_methods_do_not_grow_metrics(outputs_stack):
    rng = random.Random(11)
    before = metrics_text(outputs_stack)
    address = urlsplit(outputs_stack.api.base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    statuses = []
    try:
        for _ in range(RANDOM_METHODS):
            method = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(4, 10)))
            connection.request(method, "/api/v1/jobs")
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
    finally:
        connection.close()
    after = metrics_text(outputs_stack)

    assert set(statuses) == {405}
    assert len(after) - len(before) < METRICS_GROWTH_BOUND, f"{len(before)} -> {len(after)} bytes"
    assert 'method="other"' in after


def test_an_upload_declaring_a_body_over_the_limit_is_413_before_it_is_sent(outputs_stack):
    headers = outputs_stack.api.new_user()
    address = urlsplit(outputs_stack.api.base_url)
    declared = 100 * 1024 * 1024  # twice MAX_UPLOAD_MB's default; none of it is ever sent
    request = (
        f"POST /api/v1/jobs HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Authorization: {headers['Authorization']}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port), timeout=15) as client:
        client.sendall(request.encode())
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            piece = client.recv(65536)  # a server waiting for the body would time this out
            if not piece:
                break
            answer += piece

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:500]
    assert b'"code":"too_large"' in body
