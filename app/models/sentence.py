"""A sentence extracted from a page, with its per-sentence analysis."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class Sentence(db.Model):
    __tablename__ = "sentences"
    # A chunk's sentences are replaced as a whole; the key makes a duplicate impossible.
    __table_args__ = (
        sa.UniqueConstraint("job_id", "chunk_index", "position", name="uq_sentences_chunk_position"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    job_id: Mapped[str] = mapped_column(sa.ForeignKey("jobs.id", ondelete="CASCADE"))
    chunk_index: Mapped[int]
    position: Mapped[int]  # order within the chunk
    page: Mapped[int]  # 1-based
    start: Mapped[int]  # character offsets in the page text
    end: Mapped[int]
    text: Mapped[str] = mapped_column(sa.Text)
    analysis: Mapped[dict] = mapped_column(sa.JSON)
