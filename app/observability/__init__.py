"""Request ids that follow a job from the API to the workers, and Prometheus metrics."""

from __future__ import annotations

from flask import Flask

from app.observability.metrics import init_metrics
from app.observability.request_id import init_request_ids


def init_observability(app: Flask) -> None:
    """Tag every request and task with a request id and count requests for /metrics."""
    init_request_ids(app)
    init_metrics(app)
