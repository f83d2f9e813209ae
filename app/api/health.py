"""Health of the API and the services it needs, for load balancers and Railway."""

from __future__ import annotations

from flask import Blueprint, jsonify

from app.api.openapi import api_spec, responses
from app.api.schemas.responses import Health
from app.health import check_health

bp = Blueprint("health", __name__)


@bp.get("/health")
@api_spec.validate(resp=responses(HTTP_200=Health, HTTP_503=Health), tags=["health"])
def health():
    """The database and the broker, each with its status and latency."""
    healthy, components = check_health()
    body = {"status": "ok" if healthy else "unavailable", "components": components}
    return jsonify(body), 200 if healthy else 503
