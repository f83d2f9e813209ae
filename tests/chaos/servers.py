"""Servers the chaos tests own, so they can stop and restart them: Redis, PostgreSQL, the API."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.support import REPO_ROOT, dockerfile_command, venv_first_path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    """Return a TCP port that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll until the condition holds; fail naming what did not happen in time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"Not within {timeout} s: {what}")
        time.sleep(interval)


def migrate(database_url: str) -> None:
    """Bring a database to the newest schema with the README's own command."""
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
        cwd=REPO_ROOT,
        env=os.environ | {"DATABASE_URL": database_url},
        check=True,
        capture_output=True,
        timeout=60,
    )


class RedisServer:
    """A redis-server of our own, without persistence: a restart loses every queued message."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", str(self.workdir)]
        with (self.workdir / f"redis-{self.port}.log").open("a") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        wait_until(lambda: self._answers(client), 10, f"redis-server on port {self.port} answers PING")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    @contextmanager
    def down(self) -> Iterator[None]:
        """Stop the server for the block, then start it again, empty."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def restart(self, down_for: float) -> None:
        """Stop the server, long enough for every client to notice, and start it again, empty."""
        with self.down():
            time.sleep(down_for)

    @staticmethod
    def _answers(client: redis.Redis) -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False


class PostgresCluster:
    """A PostgreSQL cluster of our own (initdb in a temporary folder), to restart mid-job."""

    def __init__(self, password: str | None = None) -> None:
        """With a password, the cluster asks for it (scram-sha-256) instead of trusting everyone."""
        self.password = password
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="docjobs-chaos-pg-"))
        self.data = self.root / "data"
        # PostgreSQL refuses to run as root: CI containers run the suite as root.
        self.run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.run_as:
            shutil.chown(self.root, "postgres")

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        auth = f"postgres:{password or self.password}" if password or self.password else "postgres"
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        auth = ["--auth=trust"]
        if self.password:
            password_file = self.root / "password"
            password_file.write_text(self.password)
            if self.run_as:
                shutil.chown(password_file, "postgres")
            auth = ["--auth=scram-sha-256", f"--pwfile={password_file}"]
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", *auth, "-N", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-o", options, "-l", self.root / "log", "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, *command: object) -> None:
        subprocess.run([*self.run_as, *map(str, command)], check=True, capture_output=True, timeout=60)


class ApiServer:
    """The API as Dockerfile.web starts it: gunicorn with gunicorn.conf.py (two processes, four threads)."""

    def __init__(self, process: subprocess.Popen, port: int, log_path: Path) -> None:
        self.process = process
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path

    @classmethod
    @contextmanager
    def started(cls, env: dict[str, str], log_path: Path) -> Iterator[ApiServer]:
        """Run the web image's CMD with exactly the given environment (plus PORT, and PATH as in the image)."""
        port = free_port()
        command = dockerfile_command("Dockerfile.web", "CMD")
        env = env | {"PORT": str(port), "PATH": venv_first_path()}
        with log_path.open("w") as log:
            process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=log)
        server = cls(process, port, log_path)
        try:
            wait_until(server._answers, 30, f"gunicorn answers on port {port}:\n{server.log()}")
            yield server
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
        try:
            with urllib.request.urlopen(self.base_url + "/api/v1/health", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # 503 while a dependency is down is still an answer
        except OSError:
            return False
