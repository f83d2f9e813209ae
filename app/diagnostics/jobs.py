"""Checks of the jobs and of maintenance: it runs, and nothing is stuck past what it allows."""

from __future__ import annotations

from datetime import UTC

import sqlalchemy as sa

from app.diagnostics.database import connect
from app.diagnostics.results import CheckResult, Context, failed, first_line, passed, skipped, warned
from app.models.maintenance import LEASE_ROW_ID

MAINTENANCE_FIX = (
    "Start a worker (`celery -A celery_worker.celery worker`): every worker runs maintenance on a timer."
    " If workers are up, look in their logs for 'Maintenance could not run' or 'Maintenance failed'."
)
# A late run or two is a slow worker; three intervals without one means nobody runs it.
MAINTENANCE_INTERVALS_LATE = 3

STALE_CHUNKS = sa.text(
    "SELECT count(DISTINCT jobs.id), min(chunks.heartbeat_at) FROM jobs JOIN chunks ON chunks.job_id = jobs.id"
    " WHERE jobs.status = 'processing' AND chunks.status = 'running'"
    " AND chunks.heartbeat_at < now() - make_interval(secs => :bound)"
)
LONG_JOBS = sa.text(
    "SELECT count(*) FROM jobs WHERE status = 'processing' AND started_at < now() - make_interval(secs => :bound)"
)
OLDEST_PENDING = sa.text(
    "SELECT count(*), extract(epoch FROM now() - min(created_at)) FROM jobs WHERE status = 'pending'"
)
LAST_MAINTENANCE = sa.text(
    "SELECT holder, finished_at, extract(epoch FROM now() - finished_at), result, error"
    " FROM maintenance_runs WHERE id = :id"
)


def check_stuck_jobs(context: Context) -> CheckResult:
    """No job is processing past the bound the reaper guarantees."""
    if not context.schema_ok:
        return skipped("stuck-jobs", "the schema is incomplete or unreachable")
    config = context.config
    stale_bound = config.STALE_CHUNK_SECONDS + config.MAINTENANCE_INTERVAL_SECONDS
    run_bound = config.CHUNK_HARD_TIME_LIMIT + stale_bound
    with connect(context) as connection:
        silent_jobs, _ = connection.execute(STALE_CHUNKS, {"bound": stale_bound}).one()
        long_jobs = connection.execute(LONG_JOBS, {"bound": run_bound}).scalar_one()
    if silent_jobs or long_jobs:
        detail = (
            f"{silent_jobs} job(s) with a chunk silent for over {stale_bound:.0f} s,"
            f" {long_jobs} job(s) processing for over {run_bound:.0f} s"
        )
        return failed("stuck-jobs", detail, "The reaper is not running. " + MAINTENANCE_FIX)
    return passed(
        "stuck-jobs", f"no job beyond the reaper's bound ({stale_bound:.0f} s silent, {run_bound:.0f} s run)"
    )


def check_pending_jobs(context: Context) -> CheckResult:
    """Pending uploads are enqueued within the sweeper's grace."""
    if not context.schema_ok:
        return skipped("pending-jobs", "the schema is incomplete or unreachable")
    config = context.config
    bound = config.PENDING_GRACE_SECONDS + 2 * config.MAINTENANCE_INTERVAL_SECONDS
    with connect(context) as connection:
        count, oldest = connection.execute(OLDEST_PENDING).one()
    if count and oldest > bound:
        return warned(
            "pending-jobs",
            f"{count} pending job(s), the oldest for {oldest:.0f} s (sweeper bound {bound:.0f} s)",
            "The sweeper may not be running, or Redis is unreachable from the workers. " + MAINTENANCE_FIX,
        )
    oldest_text = f", the oldest for {oldest:.0f} s" if count else ""
    return passed("pending-jobs", f"{count} pending job(s){oldest_text}")


def check_maintenance(context: Context) -> CheckResult:
    """Some worker finished a maintenance run lately, and that run did not fail."""
    if not context.schema_ok:
        return skipped("maintenance", "the schema is incomplete or unreachable")
    bound = MAINTENANCE_INTERVALS_LATE * context.config.MAINTENANCE_INTERVAL_SECONDS
    with connect(context) as connection:
        row = connection.execute(LAST_MAINTENANCE, {"id": LEASE_ROW_ID}).first()
    if row is None or row.finished_at is None:
        return warned("maintenance", "maintenance has never finished a run", MAINTENANCE_FIX)
    holder, finished_at, age, result, error = row
    age = max(0.0, float(age))  # a worker's clock may run ahead of the database's
    last = (
        f"last run finished {age:.0f} s ago ({finished_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC)"
        f" by {holder or 'an unknown worker'}"
    )
    failure = f"; it failed: {first_line(error)}" if error else ""
    if age > bound:
        return warned(
            "maintenance",
            f"{last}, over {MAINTENANCE_INTERVALS_LATE} × MAINTENANCE_INTERVAL_SECONDS ({bound:.0f} s)"
            f" ago{failure}",
            MAINTENANCE_FIX,
        )
    if error:
        return warned(
            "maintenance",
            last + failure,
            "Read the worker log at 'Maintenance failed' for the traceback and fix its cause;"
            " every interval tries again.",
        )
    return passed("maintenance", f"{last}: {describe_repairs(result or {})}")


def describe_repairs(result: dict) -> str:
    """Say what a maintenance run repaired, e.g. 'stale_chunks 2, pending_jobs_enqueued 1'."""
    done = [f"{repair} {count}" for repair, count in result.items() if count]
    return ", ".join(done) if done else "nothing needed repair"
