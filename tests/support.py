"""Helpers the tests share: server URLs, a worker subprocess, API shortcuts."""

from __future__ import annotations

import io
import json
import os
import secrets
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psycopg2
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

REPO_ROOT = Path(__file__).resolve().parents[1]
ADMIN_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PASSWORD = "correct-horse-battery"
RUN_ID = secrets.token_hex(4)
VENV_BIN = Path(sys.executable).parent

# Settings the suite changes for its own speed (tests/conftest.py). A test of the shape
# that ships starts its processes without them (shipped_env).
SUITE_SETTINGS = {
    # The suite's own processes point at real servers: without this they would be production.
    "APP_ENV": "test",
    "UPLOAD_RATE_LIMIT": "10000/hour",
    # Every in-process test signs up and in from 127.0.0.1.
    "UPLOAD_ADDRESS_RATE_LIMIT": "10000/hour",
    "REGISTER_RATE_LIMIT": "10000/hour",
    "LOGIN_ADDRESS_RATE_LIMIT": "10000/minute",
    "CHUNK_PAGES": "3",
    # The ML analyzers cost up to ~30 ms a sentence on a CPU: only the tests about them ask.
    "DEFAULT_ANALYSES": "stats",
    "WORKER_SOFT_SHUTDOWN_SECONDS": "3",  # workers stop within the tests' patience
}
# Where the suite's own processes find their servers and queue; a shipped stack brings its own.
SUITE_SERVERS = ("DATABASE_URL", "REDIS_URL", "CELERY_QUEUE", "RATELIMIT_KEY_PREFIX", "RATELIMIT_STORAGE_URI")


def shipped_env(deployment: dict[str, str], dockerfile: str | None = "Dockerfile.web") -> dict[str, str]:
    """The environment of a process as a deployment starts it: the image's ENV lines, then the given variables.

    The suite's own settings are dropped; the image's ENV lines (APP_ENV=production,
    TRUSTED_PROXY_HOPS=1, ...) apply, except INSTANCE_DIR, which stays the test's; the
    virtualenv's bin comes first on PATH, where the image has its installed scripts.
    ``dockerfile=None`` is a process started without an image (``make run``).
    """
    env = {name: value for name, value in os.environ.items() if name not in {*SUITE_SETTINGS, *SUITE_SERVERS}}
    image = dockerfile_env(dockerfile) if dockerfile else {}
    image.pop("INSTANCE_DIR", None)
    return env | image | {"PATH": venv_first_path()} | deployment


def deployment_secrets() -> dict[str, str]:
    """The secrets a production deployment must set: random, 32 bytes or more, all different."""
    return {name: secrets.token_urlsafe(48) for name in ("SECRET_KEY", "JWT_SECRET_KEY", "METRICS_TOKEN")}


def dockerfile_env(dockerfile: str) -> dict[str, str]:
    """The variables the Dockerfile's ENV instructions set (``ENV A=1 B=2``, lines joined by ``\\``)."""
    text = (REPO_ROOT / dockerfile).read_text().replace("\\\n", " ")
    found: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for item in shlex.split(line[len("ENV ") :]):
                name, _, value = item.partition("=")
                found[name] = value
    return found


def venv_first_path() -> str:
    """PATH with the virtualenv's bin first: the image has its installed scripts (gunicorn, celery) on PATH."""
    return f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"


def dockerfile_command(dockerfile: str, instruction: str) -> list[str]:
    """Return the exec-form (JSON array) argument of the Dockerfile's last CMD or ENTRYPOINT."""
    lines = (REPO_ROOT / dockerfile).read_text().splitlines()
    found = [line.split(None, 1)[1] for line in lines if line.startswith(instruction + " ")]
    assert found, f"{dockerfile} has no {instruction}"
    command = json.loads(found[-1])  # shell form would not parse: the process must be PID 1
    assert isinstance(command, list)
    return command


def database_url(name: str) -> str:
    """The admin URL with its database name replaced."""
    return ADMIN_DATABASE_URL.rsplit("/", 1)[0] + "/" + name


def admin_execute(statement: str, url: str = ADMIN_DATABASE_URL) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE), by default on the admin database."""
    connection = psycopg2.connect(url, connect_timeout=5)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


class Worker:
    """A Celery worker running as a subprocess, exactly as deployments start it."""

    def __init__(self, process: subprocess.Popen, log_path: Path) -> None:
        self.process = process
        self.log_path = log_path

    @classmethod
    @contextmanager
    def started(cls, concurrency: int = 2, env: dict[str, str] | None = None) -> Iterator[Worker]:
        """Run a worker (which runs maintenance on its own timer) until the block ends."""
        name = f"worker-{secrets.token_hex(3)}"
        log_path = Path(os.environ["INSTANCE_DIR"]) / f"{name}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "celery_worker.celery", "worker",
            "--loglevel", "INFO", "--concurrency", str(concurrency), "--pool", "prefork",
            "--without-gossip", "--without-mingle",
            "--hostname", f"{name}@%h",  # one node name each: broadcast replies are keyed by it
        ]  # fmt: skip
        env = os.environ | {"REMAP_SIGTERM": "SIGQUIT"} | (env or {})  # as deployments run it
        with cls._running(command, env, log_path) as worker:
            yield worker

    @classmethod
    @contextmanager
    def shipped(cls, env: dict[str, str]) -> Iterator[Worker]:
        """Run the worker image's ENTRYPOINT with exactly the given environment until the block ends."""
        log_path = Path(os.environ["INSTANCE_DIR"]) / f"shipped-worker-{secrets.token_hex(3)}.log"
        with cls._running(
            dockerfile_command("Dockerfile.railway-worker", "ENTRYPOINT"), env, log_path
        ) as worker:
            yield worker

    @classmethod
    @contextmanager
    def _running(cls, command: list[str], env: dict[str, str], log_path: Path) -> Iterator[Worker]:
        with log_path.open("w") as log_file:
            process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # it and its pool can be stopped as one group
            )
        worker = cls(process, log_path)
        try:
            worker.wait_until_ready()
            yield worker
        finally:
            worker.stop()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The worker exited with {self.process.returncode}:\n{self.log()}")
            if " ready." in self.log():
                return
            time.sleep(0.1)
        raise TimeoutError(f"The worker was not ready after {timeout} s:\n{self.log()}")

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM (a soft shutdown), then SIGKILL whatever of its process group is left."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout)
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # no orphaned pool process outlives it
        self.process.wait(5)


def auth_headers(client: FlaskClient, email: str | None = None) -> dict[str, str]:
    """Register a new user and return the Authorization header of a fresh access token."""
    email = email or f"user-{secrets.token_hex(4)}@example.com"
    registered = client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.json
    login = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.json
    return {"Authorization": f"Bearer {login.json['access_token']}"}


def upload(
    client: FlaskClient,
    headers: dict[str, str],
    data: bytes,
    filename: str = "doc.pdf",
    analyses: str | None = None,
):
    """POST a file to /jobs as multipart form data and return the response."""
    fields = MultiDict({"file": FileStorage(io.BytesIO(data), filename)})
    if analyses is not None:
        fields["analyses"] = analyses
    # Encoded here: for large bodies the test client spools to a file it never closes.
    boundary, body = encode_multipart(fields)
    return client.post(
        "/api/v1/jobs",
        headers=headers,
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def wait_for_job(client: FlaskClient, headers: dict[str, str], job_id: str, timeout: float = 60) -> dict:
    """Poll a job until it ends; fail with its last state if it does not in time."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/api/v1/jobs/{job_id}", headers=headers)
        assert response.status_code == 200, response.json
        if response.json["status"] in {"completed", "failed", "cancelled"}:
            return response.json
        if time.monotonic() > deadline:
            raise AssertionError(f"Job {job_id} did not end within {timeout} s: {response.json}")
        time.sleep(0.05)
