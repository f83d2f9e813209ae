"""Tests for scripts/dev.py, the local launcher, run against tiny stand-in processes."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

DEV_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "dev.py"

# Loads scripts/dev.py by path and supervises the processes given as JSON in argv.
DRIVER = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("dev_launcher", sys.argv[1])
dev = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = dev
spec.loader.exec_module(dev)
config = json.loads(sys.argv[2])
specs = [dev.ProcessSpec(name, command) for name, command in config["processes"]]
ready = dev.ReadyCheck(**config["ready"]) if config["ready"] else None
sys.exit(dev.supervise(specs, grace_seconds=config["grace"], ready=ready))
"""

# Prints its pid, ignores SIGTERM, and lives at most 30 s.
STUBBORN_WORKER = """
import os, signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("worker pid", os.getpid())
print("second line")
for _ in range(300):
    time.sleep(0.1)
"""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LauncherRun:
    """The launcher running in a subprocess, with its output collected line by line."""

    def __init__(
        self,
        processes: list[tuple[str, list[str]]],
        grace: float,
        ready: dict[str, object] | None = None,
    ) -> None:
        config = {"processes": processes, "grace": grace, "ready": ready}
        self.process = subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(DEV_SCRIPT), json.dumps(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.seen: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:
            for line in self.process.stdout:
                self._lines.put(line.rstrip("\n"))

    def wait_for_line(self, text: str, timeout: float = 15) -> str:
        """Return the first line of output so far, or still to come, containing text."""
        for line in self.seen:
            if text in line:
                return line
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                break
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no line containing {text!r}; output: {self.seen}")

    def finish(self, timeout: float = 10) -> int:
        """Wait for the launcher to exit (killing it if it does not) and read all output."""
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.process.kill()
            self.process.wait(timeout=timeout)
            self._reader.join(timeout=timeout)
            while not self._lines.empty():
                self.seen.append(self._lines.get_nowait())


def process_exists(pid: int) -> bool:
    """Return whether a process with this pid is still alive."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_stops_children_after_grace_and_exits_zero() -> None:
    port = free_port()
    web = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    worker = [sys.executable, "-c", STUBBORN_WORKER]
    ready = {
        "url": f"http://127.0.0.1:{port}/",
        "message": "READY",
        "timeout_seconds": 10,
    }
    run = LauncherRun([("web", web), ("worker", worker)], grace=1.0, ready=ready)
    try:
        worker_line = run.wait_for_line("worker pid")
        run.wait_for_line("READY")
        run.wait_for_line("second line")
    finally:
        run.process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        returncode = run.finish()
        elapsed = time.monotonic() - started

    assert returncode == 0
    assert worker_line.startswith("[worker] worker pid ")
    assert "[worker] second line" in run.seen
    assert any(line.startswith("[web]    Serving HTTP") for line in run.seen), run.seen
    assert any("worker outlived" in line for line in run.seen), run.seen
    assert 1.0 <= elapsed < 5.0, f"stopping took {elapsed:.1f}s with a 1s grace"
    assert not process_exists(int(worker_line.rsplit(" ", 1)[1]))


def test_child_dying_stops_the_other_and_exits_nonzero() -> None:
    web = [sys.executable, "-c", "import time; print('serving'); time.sleep(30)"]
    worker = [sys.executable, "-c", "import time; time.sleep(0.5); raise SystemExit(3)"]
    run = LauncherRun([("web", web), ("worker", worker)], grace=5.0)

    assert run.finish() == 1
    assert "[web]    serving" in run.seen
    assert any("worker exited with code 3" in line for line in run.seen), run.seen
