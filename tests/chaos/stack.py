"""A whole platform of the chaos tests' own, in the shape that ships.

Private Redis and a fresh database; the API runs Dockerfile.web's CMD and each worker
Dockerfile.railway-worker's ENTRYPOINT, with the defaults. A test may shorten timing
settings only (FAST_RECOVERY; tests/README.md says why each).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from celery import Celery

from app.jobs.queue import PROCESS_CHUNK_TASK
from tests.chaos.http_api import ApiClient
from tests.chaos.probes import Database
from tests.chaos.processes import worker_tree
from tests.chaos.servers import ApiServer, RedisServer, migrate
from tests.support import (
    REPO_ROOT,
    RUN_ID,
    Worker,
    admin_execute,
    database_url,
    deployment_secrets,
    shipped_env,
)

# Put first on a worker's PYTHONPATH, it makes chosen PDFs crash their process (inject/sitecustomize.py).
FAULT_INJECTION = {"PYTHONPATH": os.pathsep.join([str(Path(__file__).parent / "inject"), str(REPO_ROOT)])}

# Recovery in seconds instead of minutes, so a test can wait for it. Timing only: what
# recovers, and how, is the same as at the defaults (tests/chaos/test_shipped_defaults.py).
FAST_RECOVERY = {
    "HEARTBEAT_SECONDS": "0.5",
    "STALE_CHUNK_SECONDS": "3",
    "MAINTENANCE_INTERVAL_SECONDS": "1",
    "PENDING_GRACE_SECONDS": "1",
    "REQUEUE_AFTER_SECONDS": "10",
    "WORKER_SOFT_SHUTDOWN_SECONDS": "1",
}

# What the chaos clients ask for: the cheap analysis, so a job's cost is reading its
# pages. A request's choice, not a server setting.
ANALYSES = "stats"


@dataclass
class Stack:
    """The servers, deployment variables and clients of one platform under test."""

    redis: RedisServer
    database: Database
    env: dict[str, str]  # what a deployment sets: where the database and Redis are, its secrets
    api: ApiClient
    api_server: ApiServer

    @classmethod
    @contextmanager
    def running(
        cls, name: str, database_url: str, workdir: Path, timing: dict[str, str] | None = None
    ) -> Iterator[Stack]:
        """Start Redis and the API for a migrated database; stop them afterwards.

        ``timing``: timing settings the API (and the stack's workers) run with instead of
        the defaults; tests/README.md lists which and why.
        """
        redis_server = RedisServer(workdir)
        redis_server.start()
        env = {"DATABASE_URL": database_url, "REDIS_URL": redis_server.url(), "INSTANCE_DIR": str(workdir)}
        env |= deployment_secrets() | (timing or {})
        database = Database(database_url)
        try:
            api_env = shipped_env(env, "Dockerfile.web")
            with ApiServer.started(api_env, workdir / f"gunicorn-{name}.log") as api_server:
                yield cls(redis_server, database, env, ApiClient(api_server.base_url, ANALYSES), api_server)
        finally:
            database.close()
            redis_server.stop()

    def worker(
        self, concurrency: int = 2, *, inject_faults: bool = False, **timing: object
    ) -> AbstractContextManager[Worker]:
        """A worker as its image starts it, killed outright at the end; keywords shorten timing settings."""
        deployment = self.env | {"WORKER_CONCURRENCY": str(concurrency)}
        if inject_faults:
            deployment |= FAULT_INJECTION
        deployment |= {key: str(value) for key, value in timing.items()}
        return worker_tree(shipped_env(deployment, "Dockerfile.railway-worker"))

    def fast_worker(self, concurrency: int = 2, **timing: object) -> AbstractContextManager[Worker]:
        """A worker that recovers in seconds (FAST_RECOVERY, then the given timing settings)."""
        return self.worker(concurrency, **(FAST_RECOVERY | timing))

    def publish_chunk(self, job_id: str, index: int) -> None:
        """Deliver a chunk's task once more, as at-least-once delivery sometimes does."""
        producer = Celery(broker=self.env["REDIS_URL"], set_as_current=False)
        try:
            producer.send_task(PROCESS_CHUNK_TASK, args=(job_id, index), queue="docjobs")
        finally:
            producer.close()

    def assert_no_server_errors(self) -> None:
        assert self.api.server_errors() == [], "the API answered 5xx; see " + str(self.api_server.log_path)


def module_workdir(module_name: str) -> tuple[str, Path]:
    """A short name for the module and a folder for its servers' files and logs."""
    name = module_name.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")
    workdir = Path(os.environ["INSTANCE_DIR"]) / f"chaos-{name}"
    workdir.mkdir(exist_ok=True)
    return name, workdir


@contextmanager
def stack_for_module(module_name: str, timing: dict[str, str] | None = None) -> Iterator[Stack]:
    """A platform of the module's own on a fresh database of the test server, dropped afterwards.

    ``timing``: timing settings it runs with instead of the defaults (tests/README.md).
    """
    name, workdir = module_workdir(module_name)
    database = f"docjobs_chaos_{name.replace('-', '_')}_{RUN_ID}"
    admin_execute(f'CREATE DATABASE "{database}"')
    try:
        migrate(database_url(database))
        with Stack.running(name, database_url(database), workdir, timing) as running:
            yield running
    finally:
        admin_execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
