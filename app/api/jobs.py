"""Upload PDFs, list jobs, poll, cancel, retry and delete one job."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_jwt_extended import jwt_required, verify_jwt_in_request

from app.analysis import resolve_analyses
from app.api.openapi import BEARER, api_spec, responses
from app.api.polling import answer_from_version, poll_response
from app.api.request_bodies import takes_uploads
from app.api.requests import current_user_id
from app.api.schemas.requests import JobDetailQuery, JobListQuery, UploadForm, UploadHeaders, UploadQuery
from app.api.schemas.responses import JobDetail, JobList, JobSummary, UploadedJob
from app.api.throttles import client_address, limit
from app.errors import ApiError, ValidationFailed
from app.extensions import db, limiter
from app.jobs.control import cancel_job, delete_job, retry_job
from app.jobs.uploads import accept_upload
from app.jobs.views import job_detail, job_summary
from app.models import Job

bp = Blueprint("jobs", __name__)


def user_rate_key() -> str:
    """Rate-limit uploads and retries per user, falling back to the address for anonymous calls."""
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
    """The optional Idempotency-Key header (its form is checked by ``UploadHeaders``)."""
    return request.headers.get("Idempotency-Key")


def requested_analyses() -> list[str]:
    """Read the ``analyses`` form field (comma-separated, or repeated; its names are checked by
    ``UploadForm``); absent means the configured default."""
    values = request.form.getlist("analyses")
    if not values:
        return current_app.config["DEFAULT_ANALYSES"]
    return resolve_analyses([name.strip() for value in values for name in value.split(",") if name.strip()])


def force_requested() -> bool:
    """The ``force`` flag from the form or the query string (checked by their schemas): true asks for a fresh run."""
    form, query = request.context.form, request.context.query
    return bool(form.force if form is not None and form.force is not None else query.force)


def job_location(job: Job) -> dict[str, str]:
    """The Location header that points at the job."""
    return {"Location": url_for("api.jobs.get_job", job_id=job.id)}


@bp.post("/jobs")
@bp.post("/process-pdf-async")
@takes_uploads
@limiter.limit(lambda: current_app.config["UPLOAD_RATE_LIMIT"], key_func=user_rate_key)
# However many accounts one client signs up, its uploads share one budget.
@limiter.limit(limit("UPLOAD_ADDRESS_RATE_LIMIT"), key_func=client_address)
@jwt_required()
@api_spec.validate(
    form=UploadForm,
    query=UploadQuery,
    headers=UploadHeaders,
    resp=responses(400, 401, 403, 413, 415, 429, HTTP_200=UploadedJob, HTTP_202=UploadedJob),
    security=BEARER,
    tags=["jobs"],
)
def upload():
    """Upload a PDF: 202 with a new job, or 200 with the earlier job a repeat answers with."""
    upload_file = request.files.get("file")
    if upload_file is None:
        raise ValidationFailed({"file": ["Send the PDF as multipart/form-data in the field 'file'."]})
    key, force = idempotency_key(), force_requested()
    with upload_file.stream:
        data = upload_file.read()
    analyses = requested_analyses()
    job, deduplicated = accept_upload(current_user_id(), upload_file.filename, data, key, force, analyses)
    body = job_summary(job) | {"deduplicated": deduplicated}
    return jsonify(body), 200 if deduplicated else 202, job_location(job)


@bp.get("/jobs")
@jwt_required()
@api_spec.validate(query=JobListQuery, resp=responses(401, HTTP_200=JobList), security=BEARER, tags=["jobs"])
def list_jobs():
    """Your jobs, newest first."""
    paging: JobListQuery = request.context.query
    page, per_page = paging.page, paging.per_page
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
@api_spec.validate(
    query=JobDetailQuery,
    resp=responses(401, 404, empty=(304,), HTTP_200=JobDetail),
    security=BEARER,
    tags=["jobs"],
)
def get_job(job_id: str):
    """Poll a job; with If-None-Match naming its current ETag, a 304 without a body."""
    params: JobDetailQuery = request.context.query
    offset, limit = params.sentences_offset, params.sentences_limit
    variant = f"{offset}:{limit}"
    if (answered := answer_from_version(job_id, current_user_id(), variant)) is not None:
        return answered
    job = owned_job(job_id)
    return poll_response(job, variant, job_detail(job, offset, limit))


@bp.post("/jobs/<job_id>/cancel")
@jwt_required()
@api_spec.validate(resp=responses(401, 404, 409, HTTP_200=JobSummary), security=BEARER, tags=["jobs"])
def cancel(job_id: str):
    """Cancel a pending, queued or processing job."""
    job = owned_job(job_id)
    cancel_job(job)
    return jsonify(job_summary(job))


@bp.post("/jobs/<job_id>/retry")
@limiter.limit(lambda: current_app.config["RETRY_RATE_LIMIT"], key_func=user_rate_key)
@jwt_required()
@api_spec.validate(
    resp=responses(401, 403, 404, 409, 429, HTTP_202=JobSummary), security=BEARER, tags=["jobs"]
)
def retry(job_id: str):
    """Run a failed job's unfinished chunks again (RETRY_RATE_LIMIT per user)."""
    job = owned_job(job_id)
    retry_job(job)
    return jsonify(job_summary(job)), 202, job_location(job)


@bp.delete("/jobs/<job_id>")
@jwt_required()
@api_spec.validate(resp=responses(401, 404, empty=(204,)), security=BEARER, tags=["jobs"])
def delete(job_id: str):
    """Delete a job with its PDF and results (cancelling it first if it is live)."""
    delete_job(owned_job(job_id))
    return "", 204
