"""Gunicorn settings for containers (Dockerfile.web); read from the environment.

Binds ``[::]:$PORT`` so both IPv4 and IPv6 clients reach it (older Railway
environments have an IPv6-only private network). Defaults suit 2 vCPU: two
processes, each serving up to ``GUNICORN_WORKER_CONNECTIONS`` connections at once.

Worker class ``gevent`` (issue 11): a connection costs a greenlet, not a thread, while
its request arrives, so clients that send a byte at a time (slowloris) cannot take the
server from everyone else: with 200 of them sending one byte every 2 s, ``/health`` and a
poll answer as fast as when idle (tests/hostile/test_server_slow_clients.py). The
threaded worker read each request in one of its four threads, and ten such clients
stopped it. psycopg2 waits cooperatively (``post_worker_init``), and the
CPU-bound parts of a request (password hashing, loading the embedding model and
embedding a search query) run in real threads (app/concurrency.py), so they do not
stall the other requests of their process. Waitress, which buffers whole requests in its
own loop too, serves from one process and has neither gunicorn's hooks (the quick stop
below) nor an access log; the measurements and the choice are in README.md, "Serving".
Each process holds its own SQLAlchemy pool: requests beyond ``DB_POOL_SIZE`` +
``DB_MAX_OVERFLOW`` at once wait for a connection (see docs/deployment/railway.md).
"""

import os
import signal
import tempfile
from pathlib import Path

bind = [f"[::]:{os.environ.get('PORT', '8000')}"]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "web_server.QuickStopGeventWorker"  # gevent's, quick to stop when idle
# Open connections per process, slow or idle ones included; an event stream is one, for at
# most SSE_MAX_SECONDS, and SSE_MAX_STREAMS caps them per process.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
# A process whose event loop does not come round for this long (a request holding it
# with CPU work) is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On SIGTERM, requests in flight get this long; Railway's drainingSeconds must be longer.
# Event streams end at once instead (post_worker_init), so an idle API stops in a moment.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
accesslog = "-"
logger_class = "web_server.AccessLogWithoutTickets"  # stream tickets stay out of the access log
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
    """Make psycopg2 wait cooperatively; on SIGTERM, also end this worker's event streams (app/shutdown.py).

    gevent has patched the standard library by now; psycopg2, a C extension, blocks
    the whole process on each query unless it is told to hand its waits to gevent.
    """
    from psycopg2.extensions import set_wait_callback

    from app.concurrency import wait_cooperatively

    set_wait_callback(wait_cooperatively)
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
