"""A whole platform of the chaos tests' own: private Redis, fresh database, own queue, API, workers."""

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
from tests.chaos.servers import ApiServer, RedisServer
from tests.support import RUN_ID, Worker

CHUNK_PAGES = 2  # many chunks per document: more places for a fault to land

# Recovery in seconds instead of minutes, so a test can wait for it.
FAST_RECOVERY = {
    "CHUNK_PAGES": str(CHUNK_PAGES),
    "HEARTBEAT_SECONDS": "0.5",
    "STALE_CHUNK_SECONDS": "3",
    "MAINTENANCE_INTERVAL_SECONDS": "1",
    "PENDING_GRACE_SECONDS": "1",
    "WORKER_SOFT_SHUTDOWN_SECONDS": "1",
    "UPLOAD_RATE_LIMIT": "100000/hour",
}


@dataclass
class Stack:
    """The servers, settings and clients of one platform under test."""

    redis: RedisServer
    database: Database
    env: dict[str, str]
    api: ApiClient
    api_server: ApiServer

    @classmethod
    @contextmanager
    def running(cls, name: str, database_url: str, workdir: Path) -> Iterator[Stack]:
        """Start Redis and the API for a migrated database; stop them afterwards."""
        redis_server = RedisServer(workdir)
        redis_server.start()
        env = FAST_RECOVERY | {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_server.url(),
            "RATELIMIT_STORAGE_URI": redis_server.url(),
            "CELERY_QUEUE": f"chaos-{name}-{RUN_ID}",
            "RATELIMIT_KEY_PREFIX": f"chaos-{name}-{RUN_ID}",
            "DB_POOL_SIZE": "4",
        }
        database = Database(database_url)
        try:
            with ApiServer.started(env, workdir / f"gunicorn-{name}.log") as api_server:
                yield cls(redis_server, database, env, ApiClient(api_server.base_url), api_server)
        finally:
            database.close()
            redis_server.stop()

    def worker(self, concurrency: int = 2, **settings: object) -> AbstractContextManager[Worker]:
        """A worker on this stack; keyword arguments override settings, e.g. MAX_CHUNK_ATTEMPTS=5."""
        return worker_tree(self.env | {key: str(value) for key, value in settings.items()}, concurrency)

    def publish_chunk(self, job_id: str, index: int) -> None:
        """Deliver a chunk's task once more, as at-least-once delivery sometimes does."""
        producer = Celery(broker=self.env["REDIS_URL"], set_as_current=False)
        try:
            producer.send_task(PROCESS_CHUNK_TASK, args=(job_id, index), queue=self.env["CELERY_QUEUE"])
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
