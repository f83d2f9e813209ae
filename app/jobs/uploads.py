"""Accept an uploaded PDF: validate it, commit the job with its bytes, then enqueue it."""

from __future__ import annotations

import hashlib
import logging
import unicodedata
import uuid

from flask import current_app

from app.errors import ApiError
from app.extensions import db
from app.jobs.queue import BrokerUnavailable, publish_job
from app.jobs.storage import store_document
from app.models import Job, JobStatus
from app.pdf import looks_like_pdf

log = logging.getLogger(__name__)

DEFAULT_FILENAME = "document.pdf"


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
    job = Job(
        owner_id=owner_id,
        filename=sanitize_filename(filename),
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        status=JobStatus.PENDING,
    )
    db.session.add(job)
    db.session.flush()
    store_document(job.id, data)
    db.session.commit()
    return job


def enqueue_job(job: Job) -> None:
    """Hand a committed job to the workers; if the broker is down it stays pending."""
    task_id = str(uuid.uuid4())
    job.status = JobStatus.QUEUED
    job.celery_task_id = task_id
    job.current_step = "Queued"
    db.session.commit()
    try:
        publish_job(job.id, task_id)
    except BrokerUnavailable as exc:
        log.warning("Could not enqueue job %s, it stays pending: %s", job.id, exc)
        db.session.execute(
            db.update(Job)
            .where(Job.id == job.id, Job.status == JobStatus.QUEUED)
            .values(status=JobStatus.PENDING, celery_task_id=None, current_step="Waiting for the queue")
        )
        db.session.commit()
        db.session.refresh(job)
