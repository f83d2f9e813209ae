"""Accept an uploaded PDF: validate it, commit the job with its bytes, then enqueue it.

An upload that repeats an earlier one (same Idempotency-Key, or the same file while
its job is live or completed) gets that job back instead of a new one.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import NamedTuple

from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.errors import ApiError
from app.extensions import db
from app.jobs.queue import enqueue_job
from app.jobs.quotas import claim_job_slot
from app.jobs.storage import store_document
from app.models import Job, JobStatus
from app.pdf import looks_like_pdf

DEFAULT_FILENAME = "document.pdf"

# An earlier job of these statuses answers a repeated upload of its file.
REUSABLE_STATUSES = (JobStatus.PENDING, JobStatus.QUEUED, JobStatus.PROCESSING, JobStatus.COMPLETED)


class AcceptedUpload(NamedTuple):
    job: Job
    deduplicated: bool  # True when an earlier job answers the upload


def sanitize_filename(name: str | None) -> str:
    """Keep a display-safe base name: no directories, control characters or runaway length."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    printable = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    cleaned = " ".join(printable.split()).strip(" .")
    return cleaned[:200] or DEFAULT_FILENAME


def validate_upload(data: bytes, max_bytes: int) -> None:
    """Refuse empty files, files over the limit and files that are not PDFs."""
    if not data:
        raise ApiError("empty_file", "The uploaded file is empty; choose a PDF with content.", 422)
    if len(data) > max_bytes:
        limit_mb = max_bytes // (1024 * 1024)
        raise ApiError("too_large", f"The file is larger than the {limit_mb} MB limit.", 413)
    if not looks_like_pdf(data):
        raise ApiError("unsupported_type", "The file is not a PDF; upload a PDF document.", 415)


def create_job(owner_id: int, filename: str | None, data: bytes) -> Job:
    """Validate the upload and commit a pending job together with its document."""
    validate_upload(data, current_app.config["MAX_UPLOAD_BYTES"])
    return insert_job(owner_id, filename, data, hashlib.sha256(data).hexdigest())


def insert_job(
    owner_id: int,
    filename: str | None,
    data: bytes,
    sha256: str,
    idempotency_key: str | None = None,
    analyses: list[str] | None = None,
) -> Job:
    """Commit a pending job together with its document."""
    job = Job(
        analyses=current_app.config["DEFAULT_ANALYSES"] if analyses is None else analyses,
        owner_id=owner_id,
        filename=sanitize_filename(filename),
        size_bytes=len(data),
        sha256=sha256,
        idempotency_key=idempotency_key,
        status=JobStatus.PENDING,
    )
    db.session.add(job)
    db.session.flush()
    store_document(job.id, data)
    db.session.commit()
    return job


def accept_upload(
    owner_id: int,
    filename: str | None,
    data: bytes,
    idempotency_key: str | None,
    force: bool,
    analyses: list[str],
) -> AcceptedUpload:
    """Return the earlier job this upload repeats, or commit and enqueue a new one.

    A new job must fit the user's limits (MAX_ACTIVE_JOBS, USER_STORAGE_MB); a repeat
    answered by an earlier job adds nothing and is not counted.
    """
    validate_upload(data, current_app.config["MAX_UPLOAD_BYTES"])
    sha256 = hashlib.sha256(data).hexdigest()
    earlier = earlier_job(owner_id, sha256, idempotency_key, force)
    if earlier is not None and (idempotency_key is not None or earlier.analyses == analyses):
        return AcceptedUpload(earlier, deduplicated=True)
    try:
        claim_job_slot(owner_id, len(data))
    except ApiError:
        db.session.rollback()
        raise
    try:
        job = insert_job(owner_id, filename, data, sha256, idempotency_key, analyses)
    except IntegrityError:
        # A concurrent upload with the same key won the unique index: answer with its job.
        db.session.rollback()
        winner = job_for_key(owner_id, idempotency_key, sha256) if idempotency_key else None
        if winner is None:
            raise
        return AcceptedUpload(winner, deduplicated=True)
    enqueue_job(job.id)
    return AcceptedUpload(job, deduplicated=False)


def earlier_job(owner_id: int, sha256: str, idempotency_key: str | None, force: bool) -> Job | None:
    """The job this upload repeats: the key's job, else a live or completed run of the same file."""
    if idempotency_key is not None:
        return job_for_key(owner_id, idempotency_key, sha256)
    if force:
        return None
    return reusable_job_for_file(owner_id, sha256)


def job_for_key(owner_id: int, idempotency_key: str, sha256: str) -> Job | None:
    """The user's job created with this key; the key must not be reused for another file."""
    job = db.session.scalars(
        db.select(Job).where(Job.owner_id == owner_id, Job.idempotency_key == idempotency_key)
    ).one_or_none()
    if job is not None and job.sha256 != sha256:
        raise ApiError(
            "idempotency_key_reused",
            "This Idempotency-Key was used for a different file; send a new key for a new upload.",
            422,
        )
    return job


def reusable_job_for_file(owner_id: int, sha256: str) -> Job | None:
    """The user's newest live or completed job for the same file (it answers only if its analyses match)."""
    return db.session.scalars(
        db.select(Job)
        .where(Job.owner_id == owner_id, Job.sha256 == sha256, Job.status.in_(REUSABLE_STATUSES))
        .order_by(Job.created_at.desc())
        .limit(1)
    ).first()
