"""troubleshoot.py, run as a user runs it, against healthy and broken stacks."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from tests.chaos.servers import PostgresCluster
from tests.maintenance_lease import maintenance_held, run_finished_ago, wait_for_finished_run
from tests.support import ADMIN_DATABASE_URL, REPO_ROOT, RUN_ID, Worker, admin_execute, database_url

QUEUE = f"docjobs-diagnostics-{RUN_ID}"
PREVIOUS_REVISION = "0002_documents_external_storage"
SERVER = urlsplit(ADMIN_DATABASE_URL).netloc.rsplit("@", 1)[-1]  # host:port


def troubleshoot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "troubleshoot.py", "--timeout", "3", *args],
        cwd=REPO_ROOT,
        env=os.environ | {"CELERY_QUEUE": QUEUE} | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def statuses(env: dict[str, str]) -> tuple[int, dict[str, str], str]:
    """Run with --json and return the exit code, each check's status, and the output."""
    result = troubleshoot(env, "--json")
    report = json.loads(result.stdout)
    assert report["ok"] is (result.returncode == 0)
    return result.returncode, {check["name"]: check["status"] for check in report["checks"]}, result.stdout


@pytest.fixture(scope="module")
def queue_worker(app):
    """A worker consuming the diagnostics' own queue, so no other test's worker counts."""
    with Worker.started(concurrency=1, env={"CELERY_QUEUE": QUEUE}) as running:
        wait_for_finished_run()  # it runs maintenance as it starts
        yield running


@pytest.fixture
def database_one_revision_behind(app):
    name = f"docjobs_diagnostics_{RUN_ID}"
    url = database_url(name)
    admin_execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "db", "upgrade", PREVIOUS_REVISION],
        cwd=REPO_ROOT,
        env=os.environ | {"DATABASE_URL": url},
        capture_output=True,
        check=True,
        timeout=60,
    )
    yield url
    admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_healthy_stack_passes_every_check(queue_worker):
    text = troubleshoot({})
    assert text.returncode == 0, text.stdout + text.stderr
    assert all(line.startswith(("PASS", " ")) for line in text.stdout.splitlines()), text.stdout

    code, found, output = statuses({})
    assert code == 0
    assert set(found.values()) == {"PASS"}, output
    assert {
        "database",
        "migrations",
        "schema",
        "redis",
        "queue",
        "workers",
        "connection-budget",
        "maintenance",
    } <= set(found)


@pytest.mark.parametrize(
    "database",
    [
        pytest.param("postgresql://postgres:hunter2-secret@127.0.0.1:1/docjobs", id="closed-port"),
        pytest.param(f"postgresql://nosuchuser:hunter2-secret@{SERVER}/docjobs", id="wrong-user"),
    ],
)
def test_unreachable_database_fails_and_hides_the_password(app, database):
    code, found, output = statuses({"DATABASE_URL": database})
    assert code == 1
    assert found["database"] == "FAIL"
    assert found["migrations"] == "SKIP"
    assert "hunter2-secret" not in output


def test_wrong_password_fails_and_hides_both_passwords(app):
    cluster = PostgresCluster(password="right-horse-battery")
    try:
        cluster.init()
        cluster.start()
        code, found, output = statuses({"DATABASE_URL": cluster.url(password="hunter2-secret")})
    finally:
        cluster.remove()
    assert code == 1
    assert found["database"] == "FAIL", output
    assert "password" in output.lower()
    assert "hunter2-secret" not in output and "right-horse-battery" not in output


def test_redis_down_fails(app):
    code, found, output = statuses({"REDIS_URL": "redis://127.0.0.1:1/0"})
    assert code == 1
    assert found["redis"] == "FAIL", output
    assert found["workers"] == "SKIP"
    assert found["database"] == "PASS"


def test_migration_behind_fails(database_one_revision_behind):
    code, found, output = statuses({"DATABASE_URL": database_one_revision_behind})
    assert code == 1
    assert found["migrations"] == "FAIL", output
    assert PREVIOUS_REVISION in output
    assert "db upgrade" in output


def test_queue_without_worker_fails_the_ping(app):
    code, found, output = statuses({"CELERY_QUEUE": f"docjobs-nobody-{RUN_ID}"})
    assert code == 1
    assert found["workers"] == "FAIL", output
    assert found["redis"] == "PASS"


def maintenance_report(env: dict[str, str] | None = None) -> tuple[int, dict]:
    """Run with --json and return the exit code and the maintenance check."""
    result = troubleshoot(env or {}, "--json")
    checks = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    return result.returncode, checks["maintenance"]


def test_recent_maintenance_passes_saying_who_ran_it_and_what_it_did(queue_worker):
    repairs = {"pending_jobs_enqueued": 0, "stale_chunks": 2, "lost_jobs_republished": 1}
    with maintenance_held(holder="celery@render-7 pid 42", result=repairs, **run_finished_ago(3)):
        code, check = maintenance_report()
    assert code == 0
    assert check["status"] == "PASS", check
    assert re.search(r"finished \d+ s ago \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)", check["detail"]), check
    assert "by celery@render-7 pid 42" in check["detail"]
    assert "stale_chunks 2, lost_jobs_republished 1" in check["detail"]
    assert "pending_jobs_enqueued" not in check["detail"]


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        pytest.param(
            lambda: run_finished_ago(600),
            r"finished 60\d s ago .* over 3 × MAINTENANCE_INTERVAL_SECONDS \(45 s\) ago",
            id="aged",
        ),
        pytest.param(
            lambda: {"started_at": None, "finished_at": None, "holder": None, "result": None, "error": None},
            "never finished a run",
            id="never-ran",
        ),
    ],
)
def test_late_or_missing_maintenance_warns_to_start_a_worker(queue_worker, run, expected):
    with maintenance_held(**run()):
        code, check = maintenance_report({"MAINTENANCE_INTERVAL_SECONDS": "15"})
    assert code == 0  # a warning, not a failure
    assert check["status"] == "WARN", check
    assert re.search(expected, check["detail"]), check
    assert "Start a worker" in check["fix"]
    assert "Maintenance could not run" in check["fix"] and "Maintenance failed" in check["fix"]


def test_failed_maintenance_warns_with_its_error_and_hides_passwords(queue_worker):
    error = (
        "OperationalError: connection to postgresql://app:hunter2-secret@db:5432/docjobs failed\n"
        "WARN  forged-check  a second line the report must not print"
    )
    with maintenance_held(**run_finished_ago(1) | {"result": None, "error": error}):
        code, check = maintenance_report()
    assert code == 0
    assert check["status"] == "WARN", check
    assert "failed: OperationalError: connection to postgresql://app:***@db:5432/docjobs" in check["detail"]
    assert "hunter2-secret" not in json.dumps(check)
    assert "forged-check" not in check["detail"]
    assert "Maintenance failed" in check["fix"]
