"""A sentence extracted from a page, with its per-sentence analysis."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class Sentence(db.Model):
    __tablename__ = "sentences"
    __table_args__ = (sa.Index("ix_sentences_job_page", "job_id", "page"),)  # page-range filters
    # The natural key makes a duplicate impossible and is the reading order.
    job_id: Mapped[str] = mapped_column(sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    chunk_index: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # order within the chunk
    page: Mapped[int]  # 1-based
    start: Mapped[int]  # character offsets in the page text
    end: Mapped[int]
    text: Mapped[str] = mapped_column(sa.Text)
    analysis: Mapped[dict] = mapped_column(sa.JSON)
    # Analyzer outputs that results are filtered or searched by, as columns.
    embedding: Mapped[bytes | None] = mapped_column(sa.LargeBinary)  # float32 vector, L2-normalised
    sentiment: Mapped[str | None] = mapped_column(sa.String(8))  # positive, negative, neutral
    has_pii: Mapped[bool | None]
    language: Mapped[str | None] = mapped_column(sa.String(16))
