"""Start and stop what the platform runs on: the bench database, Redis, gunicorn, a Celery worker."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg2
import redis

from bench.api_client import ApiClient

REPO_ROOT = Path(__file__).resolve().parents[1]
ADMIN_DATABASE_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
BENCH_DATABASE = "docjobs_bench"
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
BENCH_QUEUE = "docjobs-bench"
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 30
_TASK_DONE = re.compile(r"Task (?P<name>[\w.]+)\[[^\]]+\] succeeded in (?P<seconds>[\d.]+)s")


def bench_database_url() -> str:
    """The admin URL pointed at the bench database."""
    return ADMIN_DATABASE_URL.rsplit("/", 1)[0] + "/" + BENCH_DATABASE


# The pipeline and latency benches time the seed's `stats` analysis, which their raw
# baselines run too; bench/analysis.py times the default (all) analyses.
SEED_ANALYSIS = {"DEFAULT_ANALYSES": "stats"}


def platform_env(instance_dir: Path) -> dict[str, str]:
    """The environment gunicorn, the worker and the migrations run with."""
    env = {key: value for key, value in os.environ.items() if key not in {"APP_ENV", "FLASK_ENV"}}
    return env | {
        # A development setup on real servers, with the development secrets: the benches
        # time the work, not the configuration (a database URL alone would mean production).
        "APP_ENV": "development",
        "DATABASE_URL": bench_database_url(),
        "REDIS_URL": BENCH_REDIS_URL,
        "CELERY_QUEUE": BENCH_QUEUE,
        "RATELIMIT_KEY_PREFIX": BENCH_QUEUE,
        # One bench client from 127.0.0.1 uploads and signs in as often as it needs.
        "UPLOAD_RATE_LIMIT": "100000/hour",
        "UPLOAD_ADDRESS_RATE_LIMIT": "100000/hour",
        "REGISTER_RATE_LIMIT": "100000/hour",
        "LOGIN_ADDRESS_RATE_LIMIT": "100000/minute",
        "MAX_UPLOAD_MB": "200",
        "INSTANCE_DIR": str(instance_dir),
        "PYTHONUNBUFFERED": "1",
    }


def _admin_execute(statement: str) -> None:
    connection = psycopg2.connect(ADMIN_DATABASE_URL, connect_timeout=5)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def drop_database() -> None:
    """Drop the bench database, closing whatever is still connected to it."""
    _admin_execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')


def prepare_backends(env: dict[str, str]) -> None:
    """Create an empty, migrated bench database and empty the bench Redis database."""
    drop_database()
    _admin_execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
        cwd=REPO_ROOT, env=env, check=True, timeout=120, capture_output=True,
    )  # fmt: skip
    client = redis.Redis.from_url(BENCH_REDIS_URL, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Service:
    """A subprocess in its own session, logging to a file, stopped by its process id."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("w") as log_file:
            # A session of its own: Ctrl-C reaches only the bench, which then stops it in order.
            self.process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until(self, ready: Callable[[], bool], timeout: float = START_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"{self.name} exited with {code}:\n{self.log()[-3000:]}")
            if ready():
                return
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} was not ready after {timeout} s:\n{self.log()[-3000:]}")

    def stop(self) -> None:
        """Ask for a graceful stop, then kill the service's process group if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_TIMEOUT_SECONDS)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)  # stray pool children or gunicorn workers
        if self.process.poll() is None:
            self.process.wait(5)


def start_gunicorn(env: dict[str, str], port: int, log_dir: Path) -> Service:
    """Serve the API with two sync workers, as deployed, and wait until /health answers 200."""
    command = [
        sys.executable, "-m", "gunicorn", "app:create_app()", "--workers", "2",
        "--bind", f"127.0.0.1:{port}", "--timeout", "120",
    ]  # fmt: skip
    service = Service("gunicorn", command, env, log_dir / "gunicorn.log")
    client = ApiClient(f"http://127.0.0.1:{port}")

    def healthy() -> bool:
        try:
            return client.request("GET", "/api/v1/health")[0] == 200
        except OSError:
            return False

    _wait_or_stop(service, healthy)
    return service


def start_worker(
    env: dict[str, str], concurrency: int, log_path: Path, celery_app: str = "celery_worker.celery",
    node: str = "bench",
) -> Service:  # fmt: skip
    """Start a fresh Celery worker with `concurrency` prefork processes and wait until it is ready."""
    command = [
        sys.executable, "-m", "celery", "-A", celery_app, "worker", "--loglevel", "INFO",
        "-c", str(concurrency), "-P", "prefork", "--without-gossip", "--without-mingle",
        "-n", f"{node}-{concurrency}@%h",
    ]  # fmt: skip
    service = Service(f"celery worker (-c {concurrency})", command, env, log_path)
    _wait_or_stop(service, lambda: " ready." in service.log())
    return service


def _wait_or_stop(service: Service, ready: Callable[[], bool]) -> None:
    # The caller only learns of the service once it is ready: stop it here if it never gets there.
    try:
        service.wait_until(ready)
    except BaseException:
        service.stop()
        raise


def task_seconds(worker_log: str) -> dict[str, dict[str, float]]:
    """Count and sum the run times Celery logged per task name."""
    totals: dict[str, dict[str, float]] = {}
    for match in _TASK_DONE.finditer(worker_log):
        entry = totals.setdefault(match["name"], {"count": 0, "seconds": 0.0, "max": 0.0})
        seconds = float(match["seconds"])
        entry["count"] += 1
        entry["seconds"] += seconds
        entry["max"] = max(entry["max"], seconds)
    return totals


def run_and_report(
    run: Callable[[contextlib.ExitStack], dict], out: Path, print_report: Callable[[dict], None]
) -> int:
    """Run a benchmark, stopping its services and dropping the database however it ends; save and print it."""
    # SIGTERM unwinds like Ctrl-C, so the services are stopped and the database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        with contextlib.ExitStack() as stack:
            results = run(stack)
    except KeyboardInterrupt:
        print("Interrupted; the services are stopped and the bench database dropped.", file=sys.stderr)
        return 130
    out.write_text(json.dumps(results, indent=2, default=str))
    print_report(results)
    print(f"\nWritten to {out}")
    return 0
