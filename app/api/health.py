"""Health of the API and the services it needs, for load balancers and Railway.

Anyone may ask, so the public answer is each component's status alone: a failed
check's error names hosts, ports and users. Its error and latency go to the log every
time, and to a caller that sends the metrics token (``Authorization: Bearer
<METRICS_TOKEN>``).
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from app.api.openapi import api_spec, responses
from app.api.schemas.responses import Health
from app.health import check_health
from app.observability.metrics import presents_metrics_token

bp = Blueprint("health", __name__)


@bp.get("/health")
@api_spec.validate(resp=responses(HTTP_200=Health, HTTP_503=Health), tags=["health"])
def health():
    """The database and the broker, each with its status; with the metrics token, also error and latency."""
    healthy, components = check_health()
    if not presents_metrics_token():
        components = {name: {"status": checked["status"]} for name, checked in components.items()}
    body = {"status": "ok" if healthy else "unavailable", "components": components}
    return jsonify(body), 200 if healthy else 503
