"""What one user may hold at once: jobs waiting or processing, and bytes of PDFs and results.

Checked with the user's row locked, in the transaction that then starts the job, so
concurrent uploads of one user cannot each pass the check and overshoot it together.
"""

from __future__ import annotations

from flask import current_app

from app.errors import ApiError
from app.extensions import db
from app.models import Job, JobStatus, User

ACTIVE_STATUSES = (JobStatus.PENDING, JobStatus.QUEUED, JobStatus.PROCESSING)
MB = 1024 * 1024


def claim_job_slot(owner_id: int, new_bytes: int) -> None:
    """Lock the user's row and refuse a job the user's limits have no room for.

    ``new_bytes`` is what the job adds to the user's storage now (a new upload's size;
    0 for a retry). The lock is held until the caller's transaction ends.
    """
    db.session.execute(db.select(User.id).where(User.id == owner_id).with_for_update())
    config = current_app.config
    active = db.session.scalar(
        db.select(db.func.count()).where(Job.owner_id == owner_id, Job.status.in_(ACTIVE_STATUSES))
    )
    if active >= config["MAX_ACTIVE_JOBS"]:
        raise ApiError(
            "too_many_active_jobs",
            f"You have {active} jobs waiting or processing, the most allowed at once; "
            "wait for one to end (or cancel one), then try again.",
            429,
        )
    used = storage_used(owner_id)
    quota = config["USER_STORAGE_MB"] * MB
    if used + new_bytes > quota:
        raise ApiError(
            "storage_quota_exceeded",
            f"Your PDFs and results take {used / MB:.1f} MB of your {quota // MB} MB"
            + (f" and this upload needs {new_bytes / MB:.1f} MB more" if new_bytes else "")
            + "; delete jobs you no longer need, then try again.",
            403,
        )


def storage_used(owner_id: int) -> int:
    """Bytes of the user's PDFs and their stored results."""
    total = db.session.scalar(
        db.select(db.func.sum(Job.size_bytes + Job.result_bytes)).where(Job.owner_id == owner_id)
    )
    return int(total or 0)
