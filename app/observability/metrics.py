"""Prometheus metrics at ``/metrics``: requests counted in-process, everything else read at scrape time.

Request counts and latencies are recorded by the web processes; with
``PROMETHEUS_MULTIPROC_DIR`` set (several gunicorn workers) every process writes them
to files there and a scrape adds them up. Job and chunk figures, including the
worker-side ones (chunk durations, pages processed, failures by error code), are read
from the database at scrape time (app/observability/collector.py): the database is
where workers record their work, so no worker needs an HTTP server of its own.

Every label value comes from a set the server knows: a method it does not know counts
as ``other``, a path no route matches as ``unmatched``.
"""

from __future__ import annotations

import hmac
import os
import time
from http import HTTPStatus

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from app.errors import ApiError
from app.observability.collector import PlatformCollector

REQUESTS = Counter(
    "docjobs_http_requests",
    "HTTP requests handled, by endpoint (URL rule) and status.",
    ["method", "endpoint", "status"],
    registry=None,
)
REQUEST_SECONDS = Histogram(
    "docjobs_http_request_duration_seconds",
    "Time to answer an HTTP request, by endpoint (URL rule) and status.",
    ["method", "endpoint", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=None,
)

# Label values come from these sets only: each new value is a new time series in every
# process's file, so one taken from the client (any method name) grows /metrics without bound.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
KNOWN_STATUSES = frozenset(status.value for status in HTTPStatus)
OTHER = "other"

bp = Blueprint("metrics", __name__)


def request_labels(response: Response) -> tuple[str, str, str]:
    """The method, URL rule and status of a request, each bounded to values the server knows."""
    method = request.method if request.method in KNOWN_METHODS else OTHER
    rule = request.url_rule.rule if request.url_rule else "unmatched"  # raw paths would explode
    status = response.status_code if response.status_code in KNOWN_STATUSES else OTHER
    return method, rule, str(status)


def init_metrics(app: Flask) -> None:
    """Time every request and serve /metrics."""

    @app.before_request
    def start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def count_request(response: Response) -> Response:
        started = g.pop("request_started", None)
        if started is not None:
            labels = request_labels(response)
            REQUESTS.labels(*labels).inc()
            REQUEST_SECONDS.labels(*labels).observe(time.perf_counter() - started)
        return response

    app.register_blueprint(bp)


def build_registry() -> CollectorRegistry:
    """Collect this process's (or all processes') request metrics and the platform's state."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(REQUEST_SECONDS)
    registry.register(PlatformCollector(current_app._get_current_object()))
    return registry


def presents_metrics_token() -> bool:
    """Tell whether the request carries the metrics token; never true while METRICS_TOKEN is unset."""
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        return False
    sent = request.headers.get("Authorization", "")
    return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())


def check_metrics_token() -> None:
    """Refuse a scrape without the bearer token when METRICS_TOKEN is set."""
    if current_app.config.get("METRICS_TOKEN") and not presents_metrics_token():
        raise ApiError(
            "unauthorized", "Send the metrics token as 'Authorization: Bearer <METRICS_TOKEN>'.", 401
        )


@bp.get("/metrics")
def metrics() -> Response:
    """Serve the metrics in the Prometheus text format."""
    check_metrics_token()
    return Response(generate_latest(build_registry()), content_type=CONTENT_TYPE_LATEST)
