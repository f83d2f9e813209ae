"""Gauges read at scrape time: jobs, chunks and maintenance from the database, queue depth, the DB pool.

Job and chunk figures count the rows still stored, so deleting jobs lowers them; the
maintenance figures describe its last run, from the lease row workers write. The
queries run under a short statement timeout; if the database or Redis does not answer,
the scrape still succeeds and ``docjobs_scrape_ok`` says which part was missing.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from datetime import UTC

import redis
import sqlalchemy as sa
from flask import Flask
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric

from app.extensions import db
from app.models import ChunkStatus, JobStatus, MaintenanceRun
from app.models.maintenance import LEASE_ROW_ID

log = logging.getLogger(__name__)

STATEMENT_TIMEOUT_MS = 2000
CHUNK_SECONDS_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800)
DURATION_SQL = {
    "postgresql": "EXTRACT(EPOCH FROM finished_at - started_at)",
    "sqlite": "(julianday(finished_at) - julianday(started_at)) * 86400",
}


class PlatformCollector:
    """A Prometheus collector that asks the database and the broker at each scrape."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        ok = GaugeMetricFamily(
            "docjobs_scrape_ok", "1 when this part of the scrape answered.", labels=["part"]
        )
        yield from self.pool_metrics()
        try:
            yield from self.database_metrics()
            ok.add_metric(["database"], 1)
        except sa.exc.SQLAlchemyError as error:
            log.warning("Metrics: the database did not answer: %s", error)
            ok.add_metric(["database"], 0)
        try:
            yield from self.queue_metrics()
            ok.add_metric(["broker"], 1)
        except (redis.RedisError, OSError) as error:
            log.warning("Metrics: the broker did not answer: %s", error)
            ok.add_metric(["broker"], 0)
        yield ok

    def pool_metrics(self) -> Iterator[Metric]:
        pool = db.engine.pool
        if not hasattr(pool, "checkedout"):
            return
        in_use = GaugeMetricFamily(
            "docjobs_db_pool_connections", "Connections of this process's pool.", labels=["state"]
        )
        in_use.add_metric(["checked_out"], pool.checkedout())
        in_use.add_metric(["idle"], pool.checkedin())
        yield in_use
        yield GaugeMetricFamily(
            "docjobs_db_pool_size", "Configured size of this process's pool.", value=pool.size()
        )

    def database_metrics(self) -> Iterator[Metric]:
        with db.engine.connect() as connection, connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
            rows = {
                "jobs": connection.execute(
                    sa.text("SELECT status, count(*) FROM jobs GROUP BY status")
                ).all(),
                "chunks": connection.execute(
                    sa.text("SELECT status, count(*) FROM chunks GROUP BY status")
                ).all(),
                "job_failures": connection.execute(
                    sa.text(
                        "SELECT error_code, count(*) FROM jobs WHERE status = 'failed' GROUP BY error_code"
                    )
                ).all(),
                "chunk_failures": connection.execute(
                    sa.text(
                        "SELECT error_code, count(*) FROM chunks WHERE status = 'failed' GROUP BY error_code"
                    )
                ).all(),
                "pages": connection.execute(
                    sa.text("SELECT sum(last_page - first_page + 1) FROM chunks WHERE status = 'completed'")
                ).scalar(),
            }
            durations = chunk_durations(connection)
            maintenance = maintenance_metrics(connection)
        yield by_label("docjobs_jobs", "Stored jobs by status.", "status", rows["jobs"], JobStatus)
        yield by_label("docjobs_chunks", "Stored chunks by status.", "status", rows["chunks"], ChunkStatus)
        yield by_label(
            "docjobs_job_failures", "Failed jobs by error code.", "error_code", rows["job_failures"]
        )
        yield by_label(
            "docjobs_chunk_failures", "Failed chunks by error code.", "error_code", rows["chunk_failures"]
        )
        yield GaugeMetricFamily(
            "docjobs_pages_processed", "Pages in completed chunks of stored jobs.", value=rows["pages"] or 0
        )
        yield durations
        yield from maintenance

    def queue_metrics(self) -> Iterator[Metric]:
        url = self.app.config.get("REDIS_URL")
        if not url:
            return  # the embedded filesystem broker has no queue to measure
        queue = self.app.config["CELERY_QUEUE"]
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        try:
            depth = client.llen(queue)
        finally:
            client.close()
        gauge = GaugeMetricFamily(
            "docjobs_queue_depth", "Messages waiting in the Celery queue.", labels=["queue"]
        )
        gauge.add_metric([queue], depth)
        yield gauge


def by_label(name: str, doc: str, label: str, rows: list, known: type | None = None) -> GaugeMetricFamily:
    """One gauge per label value; every known value appears, at zero if absent."""
    counts = {str(key or "unknown"): count for key, count in rows}
    for value in known or ():
        counts.setdefault(str(value), 0)
    gauge = GaugeMetricFamily(name, doc, labels=[label])
    for value, count in sorted(counts.items()):
        gauge.add_metric([value], count)
    return gauge


def chunk_durations(connection: sa.Connection) -> HistogramMetricFamily:
    """Build a histogram of completed chunks' run times in SQL, without loading the rows."""
    seconds = DURATION_SQL.get(connection.dialect.name, DURATION_SQL["postgresql"])
    buckets = ", ".join(
        f"sum(CASE WHEN {seconds} <= {bound} THEN 1 ELSE 0 END)" for bound in CHUNK_SECONDS_BUCKETS
    )
    statement = (
        f"SELECT count(*), coalesce(sum({seconds}), 0), {buckets} FROM chunks"
        " WHERE status = 'completed' AND started_at IS NOT NULL AND finished_at IS NOT NULL"
    )
    count, total, *cumulative = connection.execute(sa.text(statement)).one()
    pairs = [(str(float(b)), int(c or 0)) for b, c in zip(CHUNK_SECONDS_BUCKETS, cumulative, strict=True)]
    pairs.append(("+Inf", int(count)))
    return HistogramMetricFamily(
        "docjobs_chunk_duration_seconds",
        "Run time of completed chunks of stored jobs (started to finished).",
        buckets=pairs,
        sum_value=float(total),
    )


def maintenance_metrics(connection: sa.Connection) -> list[Metric]:
    """Describe the last maintenance run: when it finished, whether it failed, what it repaired."""
    run = connection.execute(
        sa.select(MaintenanceRun.finished_at, MaintenanceRun.result, MaintenanceRun.error).where(
            MaintenanceRun.id == LEASE_ROW_ID
        )
    ).first()
    if run is None or run.finished_at is None:
        return [maintenance_age(math.inf)]  # so one alert on the age also covers "never"
    finished_at = run.finished_at
    if finished_at.tzinfo is None:  # SQLite keeps no zone; the app writes UTC
        finished_at = finished_at.replace(tzinfo=UTC)
    finished = finished_at.timestamp()
    repairs = GaugeMetricFamily(
        "docjobs_maintenance_last_run_repairs",
        "Jobs or chunks the last maintenance run touched, by repair.",
        labels=["repair"],
    )
    for repair, count in sorted((run.result or {}).items()):
        repairs.add_metric([repair], count)
    return [
        GaugeMetricFamily(
            "docjobs_maintenance_last_run_timestamp_seconds",
            "Unix time at which a worker last finished maintenance.",
            value=finished,
        ),
        maintenance_age(max(0.0, time.time() - finished)),  # a worker's clock may run ahead
        GaugeMetricFamily(
            "docjobs_maintenance_last_run_failed",
            "1 when the last maintenance run failed (troubleshoot.py and the worker log say why).",
            value=1 if run.error else 0,
        ),
        repairs,
    ]


def maintenance_age(seconds: float) -> GaugeMetricFamily:
    """The gauge of seconds since maintenance last finished."""
    return GaugeMetricFamily(
        "docjobs_maintenance_last_run_age_seconds",
        "Seconds since a worker last finished maintenance; +Inf if none ever did.",
        value=seconds,
    )
