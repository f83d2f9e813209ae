"""A bare endpoint that bench/poll.py measures the job poll against; only with BENCH_ENDPOINTS=1.

It does what any authenticated poll must at least do, and nothing else: decode the
same bearer token, one primary-key SELECT of a few columns, a small JSON object.
"""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify
from flask_jwt_extended import jwt_required

from app.api.requests import current_user_id
from app.errors import ApiError
from app.extensions import db
from app.models import Job

bp = Blueprint("bench", __name__, url_prefix="/api/v1/bench")


@bp.get("/jobs/<job_id>")
@jwt_required()
def bare_job(job_id: str):
    row = db.session.execute(
        db.select(Job.id, Job.owner_id, Job.status, Job.progress_percent).where(Job.id == job_id)
    ).one_or_none()
    if row is None or row.owner_id != current_user_id():
        raise ApiError("job_not_found", "No job with this id belongs to you.", 404)
    return jsonify(job_id=row.id, status=row.status, progress_percent=row.progress_percent)


def init_bench_endpoints(app: Flask) -> None:
    """Register the bench-only endpoints when BENCH_ENDPOINTS is set; never by default."""
    if app.config.get("BENCH_ENDPOINTS"):
        app.register_blueprint(bp)
