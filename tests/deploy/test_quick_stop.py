"""Idle, the API, the worker and `make run` stop within 3 s of being told to (issue 10).

Each runs as it ships: the web image's CMD, the worker image's ENTRYPOINT and
`python scripts/dev.py` (what `make run` runs), with the default settings
(tests.support.shipped_env), so the worker's soft shutdown keeps its 20 s: an idle
worker must not wait for it. A browser holding a job's event stream open must not hold
the API up either: the stream ends at once with a `reconnect` event. Each test has a
fresh database, where no other test's waiting job can give a worker something to do.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, suppress
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

from tests.api.conftest import extra_app
from tests.api.test_events import events_of
from tests.api.test_job_control import queued_job
from tests.chaos.processes import is_alive
from tests.chaos.servers import migrate
from tests.deploy.test_container_commands import (
    container_process,
    free_port,
    healthy,
    log_of,
    stop,
    wait_until,
)
from tests.support import (
    RUN_ID,
    TEST_REDIS_URL,
    admin_execute,
    database_url,
    deployment_secrets,
    dockerfile_command,
    shipped_env,
)

QUICK_STOP_SECONDS = 3  # issue 10: what a redeploy or a Ctrl-C may cost while no task runs
RECONNECT = ("reconnect", {"reason": "The server is shutting down; connect again to go on."})
QUEUE = os.environ["CELERY_QUEUE"] + "-quick-stop"  # the processes' own: no other worker takes from it
IDLE_QUEUE = QUEUE + "-idle"  # where the streamed jobs wait: nothing reads it


@pytest.fixture
def servers() -> Iterator[dict[str, str]]:
    """Where the platform runs: a fresh, migrated database of the test's own and the test Redis."""
    name = f"docjobs_quick_stop_{RUN_ID}"
    admin_execute(f'CREATE DATABASE "{name}"')
    try:
        migrate(database_url(name))
        yield {"DATABASE_URL": database_url(name), "REDIS_URL": TEST_REDIS_URL, "CELERY_QUEUE": QUEUE}
    finally:
        redis.Redis.from_url(TEST_REDIS_URL).delete(QUEUE, IDLE_QUEUE)
        admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def waiting_job(deployment: dict[str, str]) -> tuple[dict[str, str], str]:
    """A new user's Authorization header and a job of theirs that stays queued: its stream stays open.

    The token is signed with the deployment's JWT_SECRET_KEY, or the development one if it has none.
    """
    secret = {"JWT_SECRET_KEY": deployment["JWT_SECRET_KEY"]} if "JWT_SECRET_KEY" in deployment else {}
    with extra_app(DATABASE_URL=deployment["DATABASE_URL"], CELERY_QUEUE=IDLE_QUEUE, **secret) as idle_app:
        return queued_job(idle_app.test_client())


class OpenStream:
    """A job's event stream held open as a browser holds it, its events read as they arrive."""

    def __init__(self, base_url: str, headers: dict[str, str], job_id: str) -> None:
        address = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        self.connection.request("GET", f"/api/v1/jobs/{job_id}/events", headers=headers)
        self._socket = self.connection.sock  # getresponse() lets go of it when the server will close
        response = self.connection.getresponse()
        assert response.status == 200, response.read()
        self.received: list[tuple[str, object]] = []
        self._reader = threading.Thread(target=self._read, args=(response,), daemon=True)
        self._reader.start()

    def _read(self, response: http.client.HTTPResponse) -> None:
        try:
            self.received.extend(events_of(response))  # one line at a time, until the body ends
        except (OSError, http.client.HTTPException) as error:
            self.received.append(("broken", repr(error)))

    def wait_for(self, name: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while name not in (received for received, _ in self.received):
            assert time.monotonic() < deadline, f"no {name!r} event in {timeout} s: {self.received}"
            time.sleep(0.05)

    def ended(self, timeout: float = 5) -> bool:
        """Whether the body has ended (or broken off) within the timeout."""
        self._reader.join(timeout)
        return not self._reader.is_alive()

    def close(self) -> None:
        """Hang up; the reader sees the end of the stream before anything is closed under it."""
        with suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        self._reader.join(5)
        self.connection.close()


def left_running(session: int) -> list[str]:
    """The processes of a session (each command here starts one) that have not exited."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, IndexError):  # a process may exit while it is read
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after the name, which may hold spaces
            if int(fields[3]) == session and is_alive(int(stat.parent.name)):
                found.append((stat.parent / "cmdline").read_text().replace("\0", " "))
    return found


def assert_stopped_quickly(process: subprocess.Popen, seconds: float, what: str) -> None:
    assert seconds < QUICK_STOP_SECONDS, f"{what} took {seconds:.2f} s to stop:\n{log_of(process)}"
    assert process.returncode == 0, log_of(process)
    assert left_running(process.pid) == [], f"{what} left processes behind:\n{log_of(process)}"


def test_idle_api_stops_at_once_and_tells_open_streams_to_reconnect(servers):
    port = free_port()
    command = dockerfile_command("Dockerfile.web", "CMD")
    deployment = servers | deployment_secrets() | {"PORT": str(port)}
    with container_process("web", command, shipped_env(deployment, "Dockerfile.web")) as web:
        base_url = f"http://127.0.0.1:{port}"
        wait_until(lambda: healthy(base_url), 60, web, "gunicorn")
        with closing(OpenStream(base_url, *waiting_job(deployment))) as stream:
            stream.wait_for("progress")
            seconds = stop(web, "gunicorn")
            assert stream.ended(), stream.received

    assert_stopped_quickly(web, seconds, "gunicorn")
    assert [name for name, _ in stream.received] == ["retry", "progress", "reconnect"]
    assert stream.received[-1] == RECONNECT


def test_idle_worker_stops_at_once_without_waiting_out_the_soft_shutdown(servers):
    command = dockerfile_command("Dockerfile.railway-worker", "ENTRYPOINT")
    deployment = servers | deployment_secrets()
    with container_process("worker", command, shipped_env(deployment, "Dockerfile.railway-worker")) as worker:
        wait_until(lambda: " ready." in log_of(worker), 60, worker, "The worker")
        seconds = stop(worker, "The worker")

    assert_stopped_quickly(worker, seconds, "The worker")
    assert "Soft Shutdown" not in log_of(worker)


def test_idle_make_run_stops_on_ctrl_c_with_a_stream_open(servers):
    port = free_port()
    command = [sys.executable, "scripts/dev.py"]  # what `make run` runs
    # A developer's local PostgreSQL and Redis, no APP_ENV, no secrets: make run still starts.
    env = shipped_env(servers | {"PORT": str(port)}, dockerfile=None)
    with container_process("make-run", command, env) as launcher:
        base_url = f"http://127.0.0.1:{port}"
        ready = ("Platform running", "[worker] ", " ready.")  # the API answers; the worker is ready
        wait_until(lambda: all(line in log_of(launcher) for line in ready), 60, launcher, "make run")
        with closing(OpenStream(base_url, *waiting_job(servers))) as stream:
            stream.wait_for("progress")
            seconds = stop(launcher, "make run", signal.SIGINT)
            assert stream.ended(), stream.received

    assert_stopped_quickly(launcher, seconds, "make run")
    assert "outlived" not in log_of(launcher)  # nothing had to be killed
    assert [name for name, _ in stream.received] == ["retry", "progress", "reconnect"]
    assert stream.received[-1] == RECONNECT


def test_idle_make_run_on_the_local_default_stops_on_ctrl_c(tmp_path):
    # No DATABASE_URL or REDIS_URL: a SQLite file and the embedded filesystem broker,
    # whose polling loop made Celery's own stop take over 5 s.
    port = free_port()
    command = [sys.executable, "scripts/dev.py"]  # what `make run` runs
    env = shipped_env({"PORT": str(port), "INSTANCE_DIR": str(tmp_path)}, dockerfile=None)
    with container_process("make-run-local", command, env) as launcher:
        ready = ("Platform running", "[worker] ", " ready.")
        wait_until(lambda: all(line in log_of(launcher) for line in ready), 90, launcher, "make run")
        assert (tmp_path / "docjobs.sqlite3").is_file()
        seconds = stop(launcher, "make run", signal.SIGINT)

    assert_stopped_quickly(launcher, seconds, "make run")
    assert "outlived" not in log_of(launcher)
    assert "idle, exiting now" in log_of(launcher)
