"""The maintenance lease row, as tests see it: wait for a run, or hold it still with chosen values.

Every test worker runs maintenance on its own timer (app/jobs/maintenance_schedule.py)
and writes the row each interval, so a test that wants to read given values there
first moves ``due_at`` out of every worker's reach.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg2
from psycopg2.extras import Json

from app.models.maintenance import LEASE_ROW_ID

COLUMNS = ("holder", "started_at", "finished_at", "result", "error")


def connect() -> psycopg2.extensions.connection:
    return psycopg2.connect(os.environ["DATABASE_URL"], connect_timeout=5)


def adapt(values: dict[str, object]) -> dict[str, object]:
    return {name: Json(value) if isinstance(value, dict) else value for name, value in values.items()}


def run_finished_ago(seconds: float) -> dict[str, object]:
    """Lease columns of a run that finished this many seconds ago and did not fail."""
    finished_at = datetime.now(UTC) - timedelta(seconds=seconds)
    return {"started_at": finished_at - timedelta(seconds=1), "finished_at": finished_at, "error": None}


def last_finished_at() -> datetime | None:
    """Return when the last maintenance run finished, if none is in progress."""
    with connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT started_at, finished_at FROM maintenance_runs WHERE id = %s", [LEASE_ROW_ID])
        started_at, finished_at = cursor.fetchone()
    connection.close()
    return finished_at if finished_at and finished_at >= started_at else None


def wait_for_finished_run(timeout: float = 30) -> datetime:
    """Wait until a worker has finished a maintenance run and none is in progress."""
    deadline = time.monotonic() + timeout
    while (finished_at := last_finished_at()) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"No worker finished a maintenance run within {timeout} s")
        time.sleep(0.1)
    return finished_at


def hold(connection: psycopg2.extensions.connection, values: dict[str, object], timeout: float) -> dict:
    """Move due_at out of reach and set the values once no run is in progress; return the old values."""
    assignments = "".join(f", {name} = %({name})s" for name in values)
    deadline = time.monotonic() + timeout
    while True:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(COLUMNS)} FROM maintenance_runs WHERE id = %s FOR UPDATE", [LEASE_ROW_ID]
            )
            saved = dict(zip(COLUMNS, cursor.fetchone(), strict=True))
            started, finished = saved["started_at"], saved["finished_at"]
            if started is None or (finished is not None and finished >= started):
                cursor.execute(
                    f"UPDATE maintenance_runs SET due_at = now() + interval '1 day'{assignments} WHERE id = %(id)s",
                    adapt(values) | {"id": LEASE_ROW_ID},
                )
                return saved
        if time.monotonic() > deadline:
            raise TimeoutError(f"A maintenance run was still in progress after {timeout} s")
        time.sleep(0.1)


@contextmanager
def maintenance_held(timeout: float = 30, **values: object) -> Iterator[None]:
    """Keep every worker from running maintenance, with the row's columns set to these values.

    Waits for a run in progress to finish first, so it cannot overwrite them; on exit
    the row gets its previous values back and falls due at once.
    """
    connection = connect()
    try:
        saved = hold(connection, values, timeout)
        try:
            yield
        finally:
            restore = ", ".join(f"{name} = %({name})s" for name in saved)
            with connection, connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE maintenance_runs SET due_at = now(), {restore} WHERE id = %(id)s",
                    adapt(saved) | {"id": LEASE_ROW_ID},
                )
    finally:
        connection.close()
