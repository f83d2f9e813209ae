"""Checks of the jobs themselves: nothing stuck past what the reaper and sweeper allow."""

from __future__ import annotations

import sqlalchemy as sa

from app.diagnostics.database import connect
from app.diagnostics.results import CheckResult, Context, failed, passed, skipped, warned

BEAT_FIX = (
    "Run exactly one Celery beat (`celery -A celery_worker.celery beat`, or one worker with --beat)"
    " and check that workers are up and Redis is reachable."
)

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
        return failed("stuck-jobs", detail, "The reaper is not running. " + BEAT_FIX)
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
            "The sweeper may not be running. " + BEAT_FIX,
        )
    oldest_text = f", the oldest for {oldest:.0f} s" if count else ""
    return passed("pending-jobs", f"{count} pending job(s){oldest_text}")
