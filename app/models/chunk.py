"""A chunk: a range of pages of one job, processed by one task."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class ChunkStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"  # stopped because its job ended (cancelled, failed or deleted)


class Chunk(db.Model):
    __tablename__ = "chunks"
    __table_args__ = (
        sa.UniqueConstraint("job_id", "index", name="uq_chunks_job_index"),
        sa.Index("ix_chunks_status_heartbeat", "status", "heartbeat_at"),  # the reaper's scan
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(sa.ForeignKey("jobs.id", ondelete="CASCADE"))
    index: Mapped[int]
    first_page: Mapped[int]  # 1-based, inclusive
    last_page: Mapped[int]  # 1-based, inclusive
    status: Mapped[str] = mapped_column(sa.String(16), default=ChunkStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    result: Mapped[dict | None] = mapped_column(sa.JSON)
    error_code: Mapped[str | None] = mapped_column(sa.String(64))
    started_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Written by the worker while the chunk runs, and when it is (re)queued; the reaper
    # treats a running chunk whose heartbeat is old as lost with its worker.
    heartbeat_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
