"""A job: one uploaded PDF on its way through the workers."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow


class JobStatus(enum.StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED}


def new_job_id() -> str:
    return str(uuid.uuid4())


class Job(db.Model):
    __tablename__ = "jobs"
    # Listing reads a user's jobs newest first; polling reads by primary key; uploads
    # look for the same key or the same file of the same user.
    __table_args__ = (
        sa.Index("ix_jobs_owner_created", "owner_id", "created_at"),
        sa.Index("ix_jobs_owner_sha256", "owner_id", "sha256"),
        sa.Index("uq_jobs_owner_idempotency_key", "owner_id", "idempotency_key", unique=True),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_job_id)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(sa.String(16), default=JobStatus.PENDING, index=True)
    progress_percent: Mapped[int] = mapped_column(default=0)
    current_step: Mapped[str] = mapped_column(sa.String(200), default="Waiting for a worker")
    total_chunks: Mapped[int] = mapped_column(default=0)
    completed_chunks: Mapped[int] = mapped_column(default=0)
    filename: Mapped[str] = mapped_column(sa.String(255))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    page_count: Mapped[int | None]
    error_code: Mapped[str | None] = mapped_column(sa.String(64))
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    celery_task_id: Mapped[str | None] = mapped_column(sa.String(64))
    # Splits begun (each counted before the PDF is opened) and the splitting process's
    # last beat: like a chunk's, so a PDF that kills its process while being split fails.
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    heartbeat_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(200))
    analyses: Mapped[list] = mapped_column(sa.JSON, default=list)  # analyzer names, resolved at upload
    # Document-level results, written with the last chunk: {"analyses": {name: status}, name: result}.
    results: Mapped[dict | None] = mapped_column(sa.JSON)
    # Sentences stored and the bytes they take, counted as each chunk completes: the job's
    # share of MAX_JOB_SENTENCES and of its owner's USER_STORAGE_MB (app/jobs/quotas.py).
    sentence_count: Mapped[int] = mapped_column(default=0, server_default="0")
    result_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    def fail(self, code: str, message: str) -> None:
        """Record a terminal failure with a code clients can act on."""
        self.status = JobStatus.FAILED
        self.error_code = code
        self.error_message = message
        self.current_step = "Failed"
        self.finished_at = utcnow()
