"""The heartbeat of a running chunk, or of a job being split, written from a thread while it works.

The heartbeat proves the worker process is alive: if it dies (SIGKILL, out of
memory, hard time limit, redeploy) the beats stop and the reaper requeues the
chunk (or the split). Each beat also reads the job's status, so a cancelled,
failed or deleted job stops its running chunks at the next page or batch.
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


class Heartbeat:
    """Beat for one running chunk (or, with index None, the job's split) every `interval` seconds."""

    def __init__(self, job_id: str, index: int | None, interval: float) -> None:
        self.job_id = job_id
        self.index = index
        self.interval = interval
        self.engine = db.engine  # the thread has no app context of its own
        self.job_stopped = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id}-{index}", daemon=True)

    def __enter__(self) -> Heartbeat:
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
                log.warning("Heartbeat of job %s chunk %s failed: %s", self.job_id, self.index, error)

    def beat(self) -> None:
        """Record that the work is alive, and notice when its job ended."""
        with self.engine.begin() as connection:
            connection.execute(self._beat_statement().values(heartbeat_at=utcnow()))
            status = connection.execute(sa.select(Job.status).where(Job.id == self.job_id)).scalar()
        if status is None or JobStatus(status).is_final:
            self.job_stopped.set()

    def _beat_statement(self) -> sa.Update:
        if self.index is None:
            waiting = Job.status.in_((JobStatus.PENDING, JobStatus.QUEUED))
            return sa.update(Job).where(Job.id == self.job_id, waiting)
        return sa.update(Chunk).where(
            Chunk.job_id == self.job_id, Chunk.index == self.index, Chunk.status == ChunkStatus.RUNNING
        )
