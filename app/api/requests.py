"""Small helpers for reading request input."""

from __future__ import annotations

import re

from flask_jwt_extended import get_jwt_identity

from app.errors import ApiError

# Job ids are UUIDs (app.models.job.new_job_id); anything else cannot name a job.
JOB_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def refuse_malformed_job_id(endpoint: str | None, values: dict | None) -> None:
    """Answer 404 for a ``job_id`` that is no UUID, before it reaches the database (which refuses NUL)."""
    job_id = (values or {}).get("job_id")
    if job_id is not None and not JOB_ID.fullmatch(job_id):
        raise ApiError("job_not_found", "No job with this id belongs to you.", 404)


def current_user_id() -> int:
    """Return the id of the user the access token belongs to."""
    return int(get_jwt_identity())
