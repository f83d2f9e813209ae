"""Gunicorn settings for containers (Dockerfile.web); read from the environment.

Binds ``[::]:$PORT`` so both IPv4 and IPv6 clients reach it (older Railway
environments have an IPv6-only private network). Defaults suit 2 vCPU: two
processes with four threads each. Each process holds its own SQLAlchemy pool, so
``DB_POOL_SIZE`` should be at least ``GUNICORN_THREADS`` (see docs/deployment/railway.md).
"""

import os
import tempfile
from pathlib import Path

bind = [f"[::]:{os.environ.get('PORT', '8000')}"]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Threads, not sync workers: an event stream (GET /jobs/<id>/events) holds one thread,
# asleep between looks, for at most SSE_MAX_SECONDS; SSE_MAX_STREAMS caps them per process.
worker_class = "gthread"
# Uploads of up to MAX_UPLOAD_MB over slow links; a request past this is killed.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On SIGTERM, requests in flight get this long; Railway's drainingSeconds must be longer.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
accesslog = "-"
errorlog = "-"

# Request metrics from every worker process add up in /metrics only through files in a
# shared directory; it must be set before the workers import prometheus_client.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="docjobs-metrics-")


def on_starting(server):
    """Forget the counts of an earlier run that used the same metrics directory."""
    for stale in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the shared metrics files."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
