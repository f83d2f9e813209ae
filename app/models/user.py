"""Users own jobs; they sign in with an email and a password."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from app.concurrency import run_in_thread
from app.extensions import db
from app.models.base import utcnow


def normalize_email(email: str) -> str:
    """Return the canonical form of an email address: trimmed and lower-cased."""
    return email.strip().lower()


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    def set_password(self, password: str) -> None:
        self.password_hash = run_in_thread(generate_password_hash, password)

    def check_password(self, password: str) -> bool:
        return run_in_thread(check_password_hash, self.password_hash, password)
