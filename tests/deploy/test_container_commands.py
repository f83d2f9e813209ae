"""The containers' commands, run exactly as the Dockerfiles state them, serve and process a job.

Docker is not needed: the web CMD and the worker ENTRYPOINT are read from the
Dockerfiles and started from the repository root with the suite's environment, the
virtualenv's bin first on PATH (where the image has its installed scripts).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

import pytest

from tests.chaos.http_api import ApiClient
from tests.support import REPO_ROOT, dockerfile_command, venv_first_path

STOP_SECONDS = 15  # both must be gone well inside Railway's drainingSeconds
METRICS_TOKEN = secrets.token_hex(16)


def free_port() -> int:
    with socket.socket(socket.AF_INET6) as probe:
        probe.bind(("::", 0))
        return probe.getsockname()[1]


@contextmanager
def container_process(name: str, command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """Run a command in its own process group; kill whatever of the group is left at the end."""
    log_path = Path(os.environ["INSTANCE_DIR"]) / f"{name}-{secrets.token_hex(3)}.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process.log_path = log_path  # type: ignore[attr-defined]
    try:
        yield process
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def log_of(process: subprocess.Popen) -> str:
    return process.log_path.read_text(errors="replace")  # type: ignore[attr-defined]


def wait_until(ready, timeout: float, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode}:\n{log_of(process)}")
        if ready():
            return
        time.sleep(0.2)
    pytest.fail(f"{what} was not ready after {timeout} s:\n{log_of(process)}")


def healthy(base_url: str) -> bool:
    try:
        return ApiClient(base_url).call("GET", "/api/v1/health").status == 200
    except OSError:
        return False


def stop(process: subprocess.Popen, what: str, sig: signal.Signals = signal.SIGTERM) -> float:
    """Signal the process (SIGTERM, as Railway does); return how long it took to exit."""
    started = time.monotonic()
    process.send_signal(sig)
    try:
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} did not exit within {STOP_SECONDS} s of {sig.name}:\n{log_of(process)}")
    return time.monotonic() - started


def sample_total(metrics: str, name: str, **labels: str) -> float:
    """Sum the samples of a metric whose labels include the given ones."""
    total = 0.0
    for line in metrics.splitlines():
        sample, _, value = line.rpartition(" ")
        if sample.split("{")[0] == name and all(f'{k}="{v}"' in sample for k, v in labels.items()):
            total += float(value)
    return total


def assert_metrics_add_up_every_process(url: str, polls: int) -> None:
    """/metrics wants the token, then counts every poll whichever gunicorn process answered it."""
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)
    refused.value.close()
    assert refused.value.code == 401
    scrape = urllib.request.Request(url, headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    with urllib.request.urlopen(scrape, timeout=10) as response:
        metrics = response.read().decode()
    counted = sample_total(
        metrics, "docjobs_http_requests_total", endpoint="/api/v1/jobs/<job_id>", status="200"
    )
    assert counted >= polls, f"{counted} of {polls} polls counted:\n{metrics}"
    assert sample_total(metrics, "docjobs_jobs", status="completed") >= 1


def test_web_and_worker_commands_serve_and_process_a_job(app, shared_pdfs):
    port = free_port()
    env = os.environ | {
        "PATH": venv_first_path(),
        "PORT": str(port),
        # Its own queue, so neither the session worker nor this one takes the other's tasks.
        "CELERY_QUEUE": os.environ["CELERY_QUEUE"] + "-containers",
        "WAIT_FOR_SERVICES_SECONDS": "20",
        "METRICS_TOKEN": METRICS_TOKEN,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # gunicorn.conf.py must provide one
    web_command = dockerfile_command("Dockerfile.web", "CMD")
    worker_command = dockerfile_command("Dockerfile.railway-worker", "ENTRYPOINT")

    with ExitStack() as stack:
        web = stack.enter_context(container_process("web", web_command, env))
        worker = stack.enter_context(container_process("worker", worker_command, env))
        client = ApiClient(f"http://127.0.0.1:{port}")
        wait_until(lambda: healthy(client.base_url), 60, web, "gunicorn")
        assert healthy(f"http://[::1]:{port}"), "gunicorn does not answer on IPv6"
        wait_until(lambda: " ready." in log_of(worker), 60, worker, "The worker")
        # exec in the entrypoint: the process the platform signals is Celery itself.
        assert b"celery" in Path(f"/proc/{worker.pid}/cmdline").read_bytes()

        auth = client.new_user()
        accepted = client.upload(auth, (shared_pdfs / "sf__pdflatex-4-pages.pdf").read_bytes(), "paper.pdf")
        assert accepted.status == 202, accepted
        job = accepted.body

        polls = 0
        deadline = time.monotonic() + 60
        while job["status"] not in {"completed", "failed", "cancelled"}:
            assert time.monotonic() < deadline, f"The job did not end in 60 s: {job}\n{log_of(worker)}"
            time.sleep(0.2)
            job = client.job(auth, job["job_id"]).body
            polls += 1
        assert job["status"] == "completed", job
        assert job["sentence_count"] > 0
        assert_metrics_add_up_every_process(f"http://127.0.0.1:{port}/metrics", polls)

        stop(web, "gunicorn")
        stop(worker, "The worker")
        assert web.returncode == 0, log_of(web)
