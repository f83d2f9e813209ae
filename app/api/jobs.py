"""Upload PDFs, list jobs, poll, cancel, retry and delete one job."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_jwt_extended import jwt_required, verify_jwt_in_request

from app.analysis import UnknownAnalysis, resolve_analyses
from app.api.polling import not_modified, poll_response
from app.api.requests import current_user_id, int_arg
from app.errors import ApiError
from app.extensions import db, limiter
from app.jobs.control import cancel_job, delete_job, retry_job
from app.jobs.uploads import accept_upload
from app.jobs.views import job_detail, job_summary
from app.models import Job

bp = Blueprint("jobs", __name__)

SENTENCE_PAGE_MAX = 5000
IDEMPOTENCY_KEY_MAX = 200
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"", "0", "false", "no", "off"}


def upload_rate_key() -> str:
    """Rate-limit uploads per user, falling back to the address for anonymous calls."""
    verify_jwt_in_request(optional=True)
    try:
        return f"user:{current_user_id()}"
    except (TypeError, ValueError):
        return f"ip:{request.remote_addr}"


def owned_job(job_id: str) -> Job:
    """Return the caller's job; someone else's job is as absent as a missing one."""
    job = db.session.get(Job, job_id)
    if job is None or job.owner_id != current_user_id():
        raise ApiError("job_not_found", "No job with this id belongs to you.", 404)
    return job


def idempotency_key() -> str | None:
    """Read the optional Idempotency-Key header: 1 to 200 printable ASCII characters."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (
        1 <= len(key) <= IDEMPOTENCY_KEY_MAX and all(" " <= char <= "~" for char in key)
    ):
        raise ApiError(
            "invalid_idempotency_key",
            f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII characters, e.g. a UUID.",
            400,
        )
    return key


def requested_analyses() -> list[str]:
    """Read the ``analyses`` form field (comma-separated, or repeated); absent means the default set."""
    values = request.form.getlist("analyses")
    names = None if not values else [name.strip() for v in values for name in v.split(",") if name.strip()]
    try:
        return resolve_analyses(names)
    except UnknownAnalysis as error:
        raise ApiError("unknown_analysis", str(error), 422) from error


def force_requested() -> bool:
    """Read the ``force`` flag from the form or the query string: true asks for a fresh run."""
    value = request.form.get("force", request.args.get("force", "")).strip().lower()
    if value not in TRUE_WORDS | FALSE_WORDS:
        raise ApiError("invalid_parameter", "force must be true or false.", 400)
    return value in TRUE_WORDS


def job_location(job: Job) -> dict[str, str]:
    """The Location header that points at the job."""
    return {"Location": url_for("api.jobs.get_job", job_id=job.id)}


@bp.post("/jobs")
@bp.post("/process-pdf-async")
@limiter.limit(lambda: current_app.config["UPLOAD_RATE_LIMIT"], key_func=upload_rate_key)
@jwt_required()
def upload():
    upload_file = request.files.get("file")
    if upload_file is None:
        raise ApiError("missing_file", "Send the PDF as multipart/form-data in the field 'file'.", 400)
    key, force = idempotency_key(), force_requested()
    with upload_file.stream:
        data = upload_file.read()
    analyses = requested_analyses()
    job, deduplicated = accept_upload(current_user_id(), upload_file.filename, data, key, force, analyses)
    body = job_summary(job) | {"deduplicated": deduplicated}
    return jsonify(body), 200 if deduplicated else 202, job_location(job)


@bp.get("/jobs")
@jwt_required()
def list_jobs():
    page = int_arg("page", 1, 1, 1_000_000)
    per_page = int_arg("per_page", 20, 1, current_app.config["JOBS_PAGE_SIZE_MAX"])
    query = (
        db.select(Job).where(Job.owner_id == current_user_id()).order_by(Job.created_at.desc(), Job.id.desc())
    )
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return jsonify(
        jobs=[job_summary(job) for job in result.items],
        page=page,
        per_page=per_page,
        total=result.total,
    )


@bp.get("/jobs/<job_id>")
@jwt_required()
def get_job(job_id: str):
    offset = int_arg("sentences_offset", 0, 0, 10_000_000)
    limit = int_arg("sentences_limit", 1000, 1, SENTENCE_PAGE_MAX)
    variant = f"{offset}:{limit}"
    if (unchanged := not_modified(job_id, current_user_id(), variant)) is not None:
        return unchanged
    job = owned_job(job_id)
    return poll_response(job, variant, job_detail(job, offset, limit))


@bp.post("/jobs/<job_id>/cancel")
@jwt_required()
def cancel(job_id: str):
    job = owned_job(job_id)
    cancel_job(job)
    return jsonify(job_summary(job))


@bp.post("/jobs/<job_id>/retry")
@jwt_required()
def retry(job_id: str):
    job = owned_job(job_id)
    retry_job(job)
    return jsonify(job_summary(job)), 202, job_location(job)


@bp.delete("/jobs/<job_id>")
@jwt_required()
def delete(job_id: str):
    delete_job(owned_job(job_id))
    return "", 204
