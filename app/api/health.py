"""Health of the API and the services it needs, for load balancers and Railway."""

from __future__ import annotations

from flask import Blueprint, jsonify

from app.health import check_health

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    healthy, components = check_health()
    body = {"status": "ok" if healthy else "unavailable", "components": components}
    return jsonify(body), 200 if healthy else 503
