"""A running chunk's heartbeat, written from a thread while the chunk works.

The heartbeat proves the worker process is alive: if it dies (SIGKILL, out of
memory, hard time limit, redeploy) the beats stop and the reaper requeues the
chunk. Each beat also reads the job's status, so a cancelled or deleted job stops
its running chunks at the next page boundary.
"""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import Chunk, ChunkStatus, Job, JobStatus
from app.models.base import utcnow

log = logging.getLogger(__name__)


class ChunkHeartbeat:
    """Beat for one running chunk every `interval` seconds until the block ends."""

    def __init__(self, job_id: str, index: int, interval: float) -> None:
        self.job_id = job_id
        self.index = index
        self.interval = interval
        self.engine = db.engine  # the thread has no app context of its own
        self.job_stopped = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id}-{index}", daemon=True)

    def __enter__(self) -> ChunkHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join(timeout=self.interval + 5)

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            try:
                self.beat()
            except SQLAlchemyError as error:  # the next beat may get through
                log.warning("Heartbeat of job %s chunk %d failed: %s", self.job_id, self.index, error)

    def beat(self) -> None:
        """Record that the chunk is alive, and notice when its job stopped."""
        with self.engine.begin() as connection:
            connection.execute(
                sa.update(Chunk)
                .where(
                    Chunk.job_id == self.job_id,
                    Chunk.index == self.index,
                    Chunk.status == ChunkStatus.RUNNING,
                )
                .values(heartbeat_at=utcnow())
            )
            status = connection.execute(sa.select(Job.status).where(Job.id == self.job_id)).scalar()
        if status != JobStatus.PROCESSING:
            self.job_stopped.set()
