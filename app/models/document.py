"""The uploaded PDF's bytes, kept in the database so any worker machine can read them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class Document(db.Model):
    __tablename__ = "documents"

    job_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
