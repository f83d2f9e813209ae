"""Gunicorn settings for containers (Dockerfile.web); read from the environment.

Binds ``[::]:$PORT`` so both IPv4 and IPv6 clients reach it (older Railway
environments have an IPv6-only private network). Defaults suit 2 vCPU: two
processes with four threads each. Each process holds its own SQLAlchemy pool, so
``DB_POOL_SIZE`` should be at least ``GUNICORN_THREADS`` (see docs/deployment/railway.md).
"""

import os
import signal
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
# Event streams end at once instead (post_worker_init), so an idle API stops in a moment.
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


def post_worker_init(worker):
    """On SIGTERM, also end this worker's event streams (app/shutdown.py): gunicorn has no hook for it."""
    stop_gracefully = signal.getsignal(signal.SIGTERM)

    def stop_gracefully_and_end_streams(signum, frame):
        stop_gracefully(signum, frame)
        end_event_streams()

    signal.signal(signal.SIGTERM, stop_gracefully_and_end_streams)
    signal.siginterrupt(signal.SIGTERM, False)  # as gunicorn had it: requests' system calls go on


def pre_request(worker, req):
    """Close an event stream's connection when the stream ends (GET /api/v1/jobs/<id>/events).

    A stopping worker holds kept-alive connections open for a moment (2 s), for a request
    a client may already be sending; after a stream none is coming (EventSource waits
    ``retry:`` before it reconnects), so that would only delay the stop.
    """
    if req.method == "GET" and req.path.endswith("/events"):
        req.must_close = True


def worker_int(worker):
    """SIGINT or SIGQUIT: the worker exits at once; its streams first tell their clients to reconnect."""
    end_event_streams()


def worker_abort(worker):
    """SIGABRT (the worker timed out): let its streams end before it exits."""
    end_event_streams()


def end_event_streams():
    from app import shutdown

    shutdown.stopping.set()
