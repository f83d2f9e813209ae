"""Maintenance on a timer in every worker, run by one of them each interval.

Every worker's main process looks a few times per interval whether a run is due; the
one whose conditional update moves the lease's ``due_at`` forward runs the repairs
(app/jobs/maintenance.py) and records what they did. So maintenance runs wherever a
worker runs (one worker, many replicas, the local default) with no beat service to
deploy and no repair done N times over; if the worker that took the lease dies, the
next one takes it when it falls due again.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask, current_app

from app.database import safe_commit
from app.extensions import db
from app.jobs.maintenance import maintain
from app.models import MaintenanceRun
from app.models.base import utcnow
from app.models.maintenance import LEASE_ROW_ID

log = logging.getLogger(__name__)

LOOKS_PER_INTERVAL = 3


def take_lease(holder: str) -> bool:
    """Take this interval's run if it is due; tell whether this caller got it."""
    now = utcnow()
    interval = timedelta(seconds=current_app.config["MAINTENANCE_INTERVAL_SECONDS"])
    statement = (
        db.update(MaintenanceRun)
        .where(MaintenanceRun.id == LEASE_ROW_ID, MaintenanceRun.due_at <= now)
        .values(due_at=now + interval, holder=holder, started_at=now)
    )
    return safe_commit(lambda: db.session.execute(statement).rowcount) == 1


def run_if_due(holder: str) -> dict[str, int] | None:
    """Run maintenance when this caller takes the lease; return what it did, or None."""
    if not take_lease(holder):
        return None
    result, error = None, None
    try:
        result = maintain()
    except Exception as failure:  # noqa: BLE001 - recorded on the lease row and retried next interval
        db.session.rollback()
        error = f"{type(failure).__name__}: {failure}"
        log.exception("Maintenance failed; the next interval tries again")
    finished = db.update(MaintenanceRun).where(MaintenanceRun.id == LEASE_ROW_ID)
    safe_commit(lambda: db.session.execute(finished.values(finished_at=utcnow(), result=result, error=error)))
    if result and any(result.values()):
        log.info("Maintenance by %s: %s", holder, result)
    return result


class MaintenanceTimer:
    """A daemon thread of the worker's main process that runs maintenance when due."""

    def __init__(self, app: Flask, holder: str) -> None:
        self.app = app
        self.holder = holder
        self.period = app.config["MAINTENANCE_INTERVAL_SECONDS"] / LOOKS_PER_INTERVAL
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="maintenance", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop looking; a run in progress is left to finish in the background (the thread is a daemon)."""
        self._stop.set()

    def _run(self) -> None:
        while True:
            try:
                with self.app.app_context():
                    run_if_due(self.holder)
            except Exception:  # noqa: BLE001 - the database may be down; look again later
                log.warning("Maintenance could not run; looking again in %.1f s", self.period, exc_info=True)
            if self._stop.wait(self.period):
                return
