"""A platform started as it ships, for bench/hostile.py's attacks to aim at.

The code that runs is a checkout's (``source``: this repository, or an older commit's
worktree for "before" figures); the attacks are this repository's. The API runs the
checkout's Dockerfile.web CMD and the worker its Dockerfile.railway-worker ENTRYPOINT,
each with the ENV its Dockerfile sets plus what a deployment sets: a private Redis, a
fresh PostgreSQL database, random secrets and a metrics token.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import redis
import requests

from bench.procstats import peak_rss_mb as vm_hwm_mb
from bench.services import free_port
from tests.chaos.processes import descendants
from tests.support import admin_execute, database_url

PASSWORD = "correct-horse-battery"
VENV_BIN = Path(sys.executable).parent


def dockerfile_instruction(source: Path, dockerfile: str, instruction: str) -> list[str]:
    """The exec-form argument list of the Dockerfile's last CMD or ENTRYPOINT."""
    lines = (source / dockerfile).read_text().splitlines()
    found = [line.split(None, 1)[1] for line in lines if line.startswith(instruction + " ")]
    return json.loads(found[-1])


def dockerfile_env(source: Path, dockerfile: str) -> dict[str, str]:
    """The variables the Dockerfile's ENV instructions set (``A=1 \\`` continuation lines too)."""
    text = (source / dockerfile).read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for item in shlex.split(line[4:]):
                name, _, value = item.partition("=")
                env[name] = value
    return env


def tally(statuses: list[int]) -> str:
    """``[401, 401, 429]`` as ``2 x 401, 1 x 429``, in the order they first came."""
    return ", ".join(f"{count} x {status}" for status, count in Counter(statuses).items())


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"Not within {timeout} s: {what}")
        time.sleep(0.1)


@dataclass
class Target:
    """The platform under attack and the means to watch it."""

    api_url: str
    env: dict[str, str]
    web: subprocess.Popen
    worker: subprocess.Popen
    workdir: Path
    _users: int = field(default=0)
    # Each user's client address, by access token: its uploads and polls come from it too,
    # so per-address limits count each user as the client it is.
    _addresses: dict[str, str] = field(default_factory=dict)

    def web_pids(self) -> list[int]:
        return [self.web.pid, *descendants(self.web.pid)]

    def worker_pids(self) -> list[int]:
        return [self.worker.pid, *descendants(self.worker.pid)]

    def sql(self, statement: str, *params: object) -> list[tuple]:
        connection = psycopg2.connect(self.env["DATABASE_URL"], connect_timeout=5)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()

    def client_address(self) -> str:
        """A distinct client address, sent as X-Forwarded-For (honoured only where a proxy hop is trusted)."""
        self._users += 1
        return f"10.{(self._users >> 16) & 255}.{(self._users >> 8) & 255}.{self._users & 255}"

    def new_user(self) -> tuple[str, str, str, str]:
        """Register and sign in a user: (email, password, access token, refresh token)."""
        email = f"bench-{secrets.token_hex(5)}@example.com"
        forwarded = {"X-Forwarded-For": self.client_address()}
        body = {"email": email, "password": PASSWORD}
        registered = requests.post(
            f"{self.api_url}/api/v1/auth/register", json=body, headers=forwarded, timeout=30
        )
        registered.raise_for_status()
        login = requests.post(f"{self.api_url}/api/v1/auth/login", json=body, headers=forwarded, timeout=30)
        login.raise_for_status()
        tokens = login.json()
        self._addresses[tokens["access_token"]] = forwarded["X-Forwarded-For"]
        return email, PASSWORD, tokens["access_token"], tokens["refresh_token"]

    def _headers(self, token: str) -> dict[str, str]:
        """The bearer token, and the address of the user it was issued to, if new_user made it."""
        address = self._addresses.get(token)
        return {"Authorization": f"Bearer {token}"} | ({"X-Forwarded-For": address} if address else {})

    def upload(self, token: str, pdf: bytes, filename: str = "doc.pdf", **form: str) -> requests.Response:
        return requests.post(
            f"{self.api_url}/api/v1/jobs",
            headers=self._headers(token),
            files={"file": (filename, pdf, "application/pdf")},
            data=form,
            timeout=120,
        )

    def wait_job(self, token: str, job_id: str, timeout: float = 300) -> dict:
        """Poll a job until it ends (or the timeout passes) and return its last state."""
        deadline = time.monotonic() + timeout
        while True:
            reply = requests.get(
                f"{self.api_url}/api/v1/jobs/{job_id}?sentences_limit=1",
                headers=self._headers(token),
                timeout=30,
            )
            body = reply.json()
            if body.get("status") in {"completed", "failed", "cancelled"} or time.monotonic() > deadline:
                return body
            time.sleep(0.25)

    def peak_rss_mb(self, pid: int) -> float:
        try:
            return vm_hwm_mb(pid)
        except (OSError, RuntimeError):
            return 0.0

    def reset_peaks(self) -> None:
        """Start every process's VmHWM again from its present size (Linux: clear_refs 5)."""
        for pid in self.web_pids() + self.worker_pids():
            with suppress(OSError):
                Path(f"/proc/{pid}/clear_refs").write_text("5")


def deployment_env(
    source: Path, dockerfile: str, workdir: Path, platform_database: str, redis_url: str
) -> dict:
    """What a process of the image gets: its Dockerfile's ENV and the deployment's variables."""
    inherited = {name: os.environ[name] for name in ("HOME", "LANG", "TMPDIR") if name in os.environ}
    return (
        inherited
        | dockerfile_env(source, dockerfile)
        | {
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "INSTANCE_DIR": str(workdir),
            "DATABASE_URL": platform_database,
            "REDIS_URL": redis_url,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "JWT_SECRET_KEY": secrets.token_urlsafe(48),
            "METRICS_TOKEN": secrets.token_urlsafe(32),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


@contextmanager
def started_target(source: Path, workdir: Path) -> Iterator[Target]:
    """Redis, a migrated database, the API and one worker of the checkout, stopped afterwards."""
    workdir.mkdir(parents=True, exist_ok=True)
    redis_port = free_port()
    redis_server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=(workdir / "redis.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    database = f"docjobs_bench_hostile_{secrets.token_hex(3)}"
    platform_database = database_url(database)
    admin_execute(f'CREATE DATABASE "{database}"')
    processes: list[subprocess.Popen] = [redis_server]
    try:
        wait_until(lambda: _redis_answers(redis_port), 10, "redis answers")
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        web_env = deployment_env(source, "Dockerfile.web", workdir, platform_database, redis_url)
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
            cwd=source, env=web_env, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        port = free_port()
        web = subprocess.Popen(
            dockerfile_instruction(source, "Dockerfile.web", "CMD"),
            cwd=source,
            env=web_env | {"PORT": str(port)},
            stdout=(workdir / "web.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        processes.append(web)
        worker_env = deployment_env(
            source, "Dockerfile.railway-worker", workdir, platform_database, redis_url
        )
        worker_env |= {k: web_env[k] for k in ("SECRET_KEY", "JWT_SECRET_KEY", "METRICS_TOKEN")}
        worker_log = workdir / "worker.log"
        worker = subprocess.Popen(
            dockerfile_instruction(source, "Dockerfile.railway-worker", "ENTRYPOINT"),
            cwd=source,
            env=worker_env,
            stdout=worker_log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        processes.append(worker)
        api_url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _api_answers(api_url, web), 60, f"the API answers (see {workdir / 'web.log'})")
        wait_until(
            lambda: " ready." in worker_log.read_text(errors="replace"),
            90,
            f"the worker is ready ({worker_log})",
        )
        yield Target(api_url, web_env, web, worker, workdir)
    finally:
        for process in reversed(processes):
            stop(process)
        admin_execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _redis_answers(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, socket_connect_timeout=0.2).ping())
    except redis.RedisError:
        return False


def _api_answers(api_url: str, web: subprocess.Popen) -> bool:
    if web.poll() is not None:
        raise RuntimeError(f"The API exited with {web.returncode}.")
    try:
        requests.get(f"{api_url}/api/v1/health", timeout=2)
    except requests.RequestException:
        return False
    return True
