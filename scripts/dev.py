"""Run the whole platform locally: migrate the database, then supervise the API and a worker.

`python scripts/dev.py` (or `make run`) applies migrations, starts gunicorn and a
Celery worker as child processes, prefixes their output with `[web]` / `[worker]`,
and stops both on Ctrl-C or when either one dies.

Environment: PORT (default 8000), WORKER_CONCURRENCY (default 2),
SHUTDOWN_GRACE_SECONDS (default 30). It is a development launcher: unless APP_ENV is
set, it sets APP_ENV=development, so it also runs on a local PostgreSQL and Redis
(DATABASE_URL, REDIS_URL) without production secrets. Standard library only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TextIO

REPO_ROOT = Path(__file__).resolve().parent.parent
LAUNCHER_PREFIX = "[dev]    "
POLL_SECONDS = 0.2

_output_lock = threading.Lock()


@dataclass(frozen=True)
class ProcessSpec:
    """A child process to supervise: a short name for its log prefix and its command."""

    name: str
    command: Sequence[str]

    @property
    def prefix(self) -> str:
        """Return the prefix put before each line of this child's output."""
        return f"[{self.name}]".ljust(8) + " "


@dataclass(frozen=True)
class ReadyCheck:
    """A URL that answers once the platform is up, and the line to print then."""

    url: str
    message: str
    timeout_seconds: float = 30.0


@dataclass
class Child:
    """A running child process and the thread copying its output."""

    spec: ProcessSpec
    process: subprocess.Popen[bytes]
    pump: threading.Thread


def emit(line: str, stream: TextIO | None = None) -> None:
    """Write one whole line to stdout (or stream) without interleaving with other threads."""
    target = stream or sys.stdout
    with _output_lock:
        target.write(line + "\n")
        target.flush()


def platform_processes(port: int, concurrency: int) -> list[ProcessSpec]:
    """Return the API and worker processes that make up the platform."""
    web = [sys.executable, "-m", "gunicorn", "app:create_app()"]
    web += ["--bind", f"127.0.0.1:{port}", "--access-logfile", "-"]
    worker = [sys.executable, "-m", "celery", "-A", "celery_worker.celery", "worker"]
    # The worker also runs maintenance on its own timer (app/jobs/maintenance_schedule.py).
    worker += ["--loglevel", "INFO", "--concurrency", str(concurrency)]
    return [ProcessSpec("web", web), ProcessSpec("worker", worker)]


def upgrade_database() -> int:
    """Apply pending migrations; return the command's exit code."""
    command = [sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"]
    return subprocess.run(command, check=False).returncode


def pump_output(pipe: IO[bytes], prefix: str) -> None:
    """Copy a child's output line by line, each line behind its prefix."""
    with pipe:
        for raw in iter(pipe.readline, b""):
            emit(prefix + raw.decode("utf-8", errors="replace").rstrip("\r\n"))


def start_child(spec: ProcessSpec) -> Child:
    """Start a child in its own process group with stdout and stderr merged."""
    process = subprocess.Popen(
        list(spec.command),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        # REMAP_SIGTERM makes Celery's SIGTERM a soft shutdown: running chunks get
        # WORKER_SOFT_SHUTDOWN_SECONDS, then go back to the queue (gunicorn ignores it).
        env={"REMAP_SIGTERM": "SIGQUIT", **os.environ, "PYTHONUNBUFFERED": "1"},
        process_group=0,
    )
    assert process.stdout is not None
    pump = threading.Thread(target=pump_output, args=(process.stdout, spec.prefix), daemon=True)
    pump.start()
    return Child(spec, process, pump)


def answers_http(url: str) -> bool:
    """Return whether anything answers HTTP at url, whatever the status."""
    # Bypass proxies: the URL is always local.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def watch_readiness(check: ReadyCheck, cancelled: threading.Event, failed: threading.Event) -> None:
    """Announce check.message once check.url answers; set failed if it never does."""
    deadline = time.monotonic() + check.timeout_seconds
    while not cancelled.is_set():
        if answers_http(check.url):
            emit(check.message)
            return
        if time.monotonic() >= deadline:
            failed.set()
            return
        cancelled.wait(0.5)


def describe_exit(returncode: int) -> str:
    """Say how a process ended, naming the signal if one killed it."""
    if returncode < 0:
        return f"was killed by {signal.Signals(-returncode).name}"
    return f"exited with code {returncode}"


def send_signal(child: Child, sig: signal.Signals, *, group: bool) -> None:
    """Signal a child, or its whole process group, ignoring ones already gone."""
    try:
        if group:
            os.killpg(child.process.pid, sig)
        elif child.process.poll() is None:
            child.process.send_signal(sig)
    except ProcessLookupError:
        pass


def stop_children(children: Sequence[Child], grace_seconds: float) -> None:
    """Send SIGTERM, wait up to grace_seconds, then SIGKILL whatever is left."""
    for child in children:
        send_signal(child, signal.SIGTERM, group=False)
    deadline = time.monotonic() + grace_seconds
    for child in children:
        try:
            child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            name = child.spec.name
            emit(f"{LAUNCHER_PREFIX}{name} outlived the {grace_seconds:g}s grace; killing it")
    for child in children:
        # The group also holds grandchildren (gunicorn and Celery pool workers).
        send_signal(child, signal.SIGKILL, group=True)
        child.process.wait()
        child.pump.join(timeout=2)


def wait_for_stop(
    children: Sequence[Child],
    stop_requested: threading.Event,
    ready_failed: threading.Event,
) -> int:
    """Block until a stop is requested (return 0) or something fails (return 1)."""
    while not stop_requested.wait(POLL_SECONDS):
        for child in children:
            returncode = child.process.poll()
            if returncode is not None:
                how = describe_exit(returncode)
                emit(f"{LAUNCHER_PREFIX}{child.spec.name} {how}; stopping", sys.stderr)
                return 1
        if ready_failed.is_set():
            emit(f"{LAUNCHER_PREFIX}the API never answered; stopping", sys.stderr)
            return 1
    emit(f"{LAUNCHER_PREFIX}stop requested; stopping")
    return 0


def supervise(
    specs: Sequence[ProcessSpec],
    *,
    grace_seconds: float = 20.0,
    ready: ReadyCheck | None = None,
) -> int:
    """Run the processes until a signal asks to stop (exit 0) or one of them dies (exit 1)."""
    stop_requested = threading.Event()
    ready_cancelled = threading.Event()
    ready_failed = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop_requested.set()

    previous_handlers = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    children: list[Child] = []
    try:
        for spec in specs:
            children.append(start_child(spec))
        if ready is not None:
            threading.Thread(
                target=watch_readiness,
                args=(ready, ready_cancelled, ready_failed),
                daemon=True,
            ).start()
        return wait_for_stop(children, stop_requested, ready_failed)
    finally:
        ready_cancelled.set()
        stop_children(children, grace_seconds)
        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler)


def env_number(name: str, default: float) -> float:
    """Read a positive number from the environment, failing with a clear message."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise SystemExit(f"{name} must be a positive number, got {raw!r}.")
    return value


def main() -> int:
    """Migrate the database, then run the API and a worker until stopped."""
    port = int(env_number("PORT", 8000))
    concurrency = int(env_number("WORKER_CONCURRENCY", 2))
    grace_seconds = env_number("SHUTDOWN_GRACE_SECONDS", 30.0)
    os.chdir(REPO_ROOT)
    # With DATABASE_URL or REDIS_URL set, an unset APP_ENV would mean production (config.py).
    os.environ.setdefault("APP_ENV", "development")

    returncode = upgrade_database()
    if returncode != 0:
        problem = f"`flask db upgrade` failed with code {returncode}"
        emit(f"{LAUNCHER_PREFIX}{problem}; fix it and run again.", sys.stderr)
        return 1

    api = f"http://127.0.0.1:{port}/api/v1"
    ready = ReadyCheck(
        url=f"{api}/health",
        message=f"Platform running: API at {api} (Ctrl-C to stop)",
    )
    return supervise(platform_processes(port, concurrency), grace_seconds=grace_seconds, ready=ready)


if __name__ == "__main__":
    sys.exit(main())
