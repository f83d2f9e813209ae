"""/metrics: request counts by route, job, chunk and maintenance figures from the database, the token."""

from __future__ import annotations

import math
import os
import re
import secrets
import subprocess
import sys
import time
from http import HTTPStatus

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from app.observability.metrics import KNOWN_METHODS, build_registry
from tests.maintenance_lease import maintenance_held, run_finished_ago, wait_for_finished_run
from tests.support import REPO_ROOT, auth_headers, upload, wait_for_job

REPAIRS = "docjobs_maintenance_last_run_repairs"


def scrape(client, **headers: str) -> dict[tuple[str, tuple], float]:
    """GET /metrics and index its samples by name and sorted labels."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.data
    assert response.content_type.startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_show_requests_jobs_and_worker_side_figures(client, worker, shared_pdfs):
    headers = auth_headers(client)
    accepted = upload(client, headers, (shared_pdfs / "sf__pdflatex-4-pages.pdf").read_bytes())
    job = wait_for_job(client, headers, accepted.json["job_id"])
    assert job["status"] == "completed", job

    samples = scrape(client)
    upload_labels = {"method": "POST", "endpoint": "/api/v1/jobs", "status": "202"}
    assert value(samples, "docjobs_http_requests_total", **upload_labels) >= 1
    assert value(samples, "docjobs_http_request_duration_seconds_count", **upload_labels) >= 1
    assert (
        value(
            samples,
            "docjobs_http_requests_total",
            method="GET",
            endpoint="/api/v1/jobs/<job_id>",
            status="200",
        )
        >= 1
    )
    assert value(samples, "docjobs_jobs", status="completed") >= 1
    assert ("docjobs_jobs", (("status", "cancelled"),)) in samples  # every status, even at zero
    assert value(samples, "docjobs_chunks", status="completed") >= 2
    assert value(samples, "docjobs_chunk_duration_seconds_count") >= 2
    assert value(samples, "docjobs_chunk_duration_seconds_bucket", le="+Inf") >= 2
    assert value(samples, "docjobs_pages_processed") >= 4
    assert ("docjobs_queue_depth", (("queue", client.application.config["CELERY_QUEUE"]),)) in samples
    assert (
        value(samples, "docjobs_db_pool_size")
        == client.application.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"]
    )
    assert value(samples, "docjobs_scrape_ok", part="database") == 1
    assert value(samples, "docjobs_scrape_ok", part="broker") == 1


def test_failed_jobs_are_counted_by_error_code(client, worker, shared_pdfs):
    headers = auth_headers(client)
    accepted = upload(client, headers, (shared_pdfs / "multicolumn-truncated-40000B.pdf").read_bytes())
    job = wait_for_job(client, headers, accepted.json["job_id"])
    assert job["status"] == "failed", job

    assert value(scrape(client), "docjobs_job_failures", error_code=job["error"]["code"]) >= 1


def test_metrics_show_the_workers_last_maintenance_run(client, worker):
    finished_at = wait_for_finished_run()  # the worker runs maintenance as it starts
    samples = scrape(client)
    finished = value(samples, "docjobs_maintenance_last_run_timestamp_seconds")
    age = value(samples, "docjobs_maintenance_last_run_age_seconds")
    assert finished_at.timestamp() <= finished <= time.time()
    assert 0 <= age <= 3 * client.application.config["MAINTENANCE_INTERVAL_SECONDS"]
    assert finished + age == pytest.approx(time.time(), abs=5)
    assert value(samples, "docjobs_maintenance_last_run_failed") == 0
    repairs = {dict(labels)["repair"]: count for (name, labels), count in samples.items() if name == REPAIRS}
    assert {"pending_jobs_enqueued", "stale_chunks"} <= set(repairs), repairs
    assert all(count >= 0 for count in repairs.values())


def test_metrics_show_what_the_last_maintenance_run_repaired(client):
    run = run_finished_ago(30)
    with maintenance_held(
        holder="celery@render-7 pid 42", result={"stale_chunks": 2, "stale_splits": 0}, **run
    ):
        samples = scrape(client)
    assert value(samples, "docjobs_maintenance_last_run_timestamp_seconds") == pytest.approx(
        run["finished_at"].timestamp(), abs=0.01
    )
    assert 30 <= value(samples, "docjobs_maintenance_last_run_age_seconds") < 40
    assert value(samples, "docjobs_maintenance_last_run_failed") == 0
    assert {labels: count for (name, labels), count in samples.items() if name == REPAIRS} == {
        (("repair", "stale_chunks"),): 2,
        (("repair", "stale_splits"),): 0,
    }


def test_failed_maintenance_run_is_flagged_without_repairs(client):
    with maintenance_held(**run_finished_ago(1) | {"result": None, "error": "RuntimeError: boom"}):
        samples = scrape(client)
    assert value(samples, "docjobs_maintenance_last_run_failed") == 1
    assert not any(name == REPAIRS for name, _ in samples)


def test_maintenance_that_never_ran_is_infinitely_old(client):
    never = {"started_at": None, "finished_at": None, "holder": None, "result": None, "error": None}
    with maintenance_held(**never):
        samples = scrape(client)
    assert math.isinf(value(samples, "docjobs_maintenance_last_run_age_seconds"))
    assert not any(
        name.startswith("docjobs_maintenance_last_run_") and "age" not in name for name, _ in samples
    )


def test_unmatched_paths_share_one_label(client):
    client.get("/no/such/path/12345")
    samples = scrape(client)
    assert (
        value(samples, "docjobs_http_requests_total", method="GET", endpoint="unmatched", status="404") >= 1
    )
    assert not any("12345" in str(labels) for _, labels in samples)


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Bearer wrong-token", 401),
        ("s3cret-metrics-token", 401),
        ("Bearer s3cret-metrics-token", 200),
    ],
)
def test_metrics_token_is_required_when_set(client, app, monkeypatch, authorization, status):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "s3cret-metrics-token")
    response = client.get("/metrics", headers={"Authorization": authorization} if authorization else {})
    assert response.status_code == status
    if status == 401:
        assert response.json["error"]["code"] == "unauthorized"
        assert "METRICS_TOKEN" in response.json["error"]["message"]
    else:
        assert re.search(r"^docjobs_jobs\{", response.get_data(as_text=True), re.MULTILINE)


def test_request_counts_of_several_processes_add_up(app, monkeypatch, tmp_path):
    """Under gunicorn each process counts its own requests; a scrape must show their sum."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    count_one_request = (
        "from app.observability.metrics import REQUESTS; REQUESTS.labels('GET', '/probe', '200').inc()"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count_one_request], cwd=REPO_ROOT, env=os.environ, check=True)
    with app.app_context():
        metrics = generate_latest(build_registry()).decode()
    assert 'docjobs_http_requests_total{endpoint="/probe",method="GET",status="200"} 2.0' in metrics


def test_methods_the_server_does_not_know_count_as_other(client):
    methods = [f"X{secrets.token_hex(3).upper()}" for _ in range(20)]
    for method in methods:
        assert client.open("/api/v1/jobs", method=method).status_code == 405
    samples = scrape(client)
    requests = [dict(labels) for name, labels in samples if name == "docjobs_http_requests_total"]
    assert {labels["method"] for labels in requests} <= KNOWN_METHODS | {"other"}
    assert value(
        samples, "docjobs_http_requests_total", method="other", endpoint="unmatched", status="405"
    ) >= len(methods)
    rules = {rule.rule for rule in client.application.url_map.iter_rules()}
    # The counters are the process's: other tests' apps add routes this one lacks.
    for labels in (labels for labels in requests if labels["method"] == "other"):
        assert labels["endpoint"] == "unmatched" or labels["endpoint"] in rules
        assert labels["status"] == "other" or HTTPStatus(int(labels["status"]))
