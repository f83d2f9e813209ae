"""The Railway config files match Railway's schema and the Dockerfiles pass hadolint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import Config
from tests.support import REPO_ROOT

SCHEMA = REPO_ROOT.parent / "shared" / "railway" / "railway.schema.json"
BIN = Path(sys.executable).parent
RAILWAY_FILES = ("railway.json", "railway.worker.json")
DOCKERFILES = ("Dockerfile.web", "Dockerfile.railway-worker")


def run_tool(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


def deploy_settings(name: str) -> dict:
    return json.loads((REPO_ROOT / name).read_text())["deploy"]


def gunicorn_settings() -> dict:
    """Evaluate gunicorn.conf.py as gunicorn does, without keeping what it sets in os.environ."""
    settings: dict = {}
    saved = dict(os.environ)
    try:
        exec((REPO_ROOT / "gunicorn.conf.py").read_text(), settings)
        settings["environ"] = dict(os.environ)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return settings


def test_railway_files_match_railways_schema():
    if not SCHEMA.is_file():
        pytest.fail(
            f"Railway's schema is missing: expected {SCHEMA} (a copy of railway.com/railway.schema.json)."
        )
    result = run_tool(str(BIN / "check-jsonschema"), "--schemafile", str(SCHEMA), *RAILWAY_FILES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfiles_pass_hadolint():
    result = run_tool(str(BIN / "hadolint"), "--failure-threshold", "warning", *DOCKERFILES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_only_the_web_service_has_a_healthcheck():
    assert deploy_settings("railway.json")["healthcheckPath"] == "/api/v1/health"
    assert "healthcheckPath" not in deploy_settings("railway.worker.json")


@pytest.mark.parametrize("name", RAILWAY_FILES)
def test_each_service_builds_its_own_dockerfile(name):
    build = json.loads((REPO_ROOT / name).read_text())["build"]
    assert build["builder"] == "DOCKERFILE"
    assert (REPO_ROOT / build["dockerfilePath"]).is_file()


def test_web_draining_outlasts_gunicorns_graceful_timeout(monkeypatch):
    monkeypatch.delenv("GUNICORN_GRACEFUL_TIMEOUT", raising=False)
    assert deploy_settings("railway.json")["drainingSeconds"] > gunicorn_settings()["graceful_timeout"]


def test_worker_draining_outlasts_the_soft_shutdown(monkeypatch):
    monkeypatch.delenv("WORKER_SOFT_SHUTDOWN_SECONDS", raising=False)
    soft_shutdown = Config().WORKER_SOFT_SHUTDOWN_SECONDS
    # Margin for the pool to stop and hand the messages back after the soft shutdown.
    assert deploy_settings("railway.worker.json")["drainingSeconds"] >= soft_shutdown + 10


def test_migrations_run_before_each_web_deploy():
    assert deploy_settings("railway.json")["preDeployCommand"] == ["flask db upgrade"]


def test_gunicorn_binds_ipv4_and_ipv6_on_port(monkeypatch):
    monkeypatch.setenv("PORT", "4321")
    settings = gunicorn_settings()
    assert settings["bind"] == ["[::]:4321"]
    assert settings["worker_class"] == "web_server.QuickStopGeventWorker"
    assert (settings["accesslog"], settings["errorlog"]) == ("-", "-")


def test_worker_entrypoint_is_executable():
    entrypoint = REPO_ROOT / "railway-worker-entrypoint.sh"
    assert entrypoint.stat().st_mode & 0o111
    assert "set -eu" in entrypoint.read_text()


def test_gunicorn_gives_its_processes_a_fresh_shared_metrics_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    created = Path(gunicorn_settings()["environ"]["PROMETHEUS_MULTIPROC_DIR"])
    assert created.is_dir() and not any(created.iterdir())

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "counter_123.db").write_bytes(b"stale")
    settings = gunicorn_settings()
    assert settings["environ"]["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)
    settings["on_starting"](None)
    assert not any(tmp_path.iterdir()), "counts of an earlier run would be added to the new ones"
