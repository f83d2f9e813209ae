"""Sign-ins and their refresh tokens: what a logout or a stolen refresh token revokes.

A sign-in starts a token family; every access and refresh token it leads to carries the
family's id (claim ``fam``). A refresh token is good for one refresh, which rotates it:
the presented token is marked rotated and names its successor (app/accounts/sessions.py).
Revoking the family (logout, or a rotated token presented again after the grace) ends
all of its tokens: refresh tokens at once (each refresh reads the family row), access
tokens within TOKEN_REVOCATION_CHECK_SECONDS (app/accounts/revocations.py).

Rows live in PostgreSQL, not Redis: they survive a Redis restart and are enforced while
Redis is down.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow


def new_token_id() -> str:
    return str(uuid.uuid4())


class TokenFamily(db.Model):
    """One sign-in: its user, until when its newest refresh token lasts, and whether it was revoked."""

    __tablename__ = "token_families"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_token_id)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    # Each process reads the families revoked within the access-token lifetime.
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), index=True)
    revoked_reason: Mapped[str | None] = mapped_column(sa.String(16))  # "logout" or "reuse"


class RefreshToken(db.Model):
    """A refresh token of a family: its lifetime, and once used, when and by which token it was replaced.

    Only the current token and those rotated within the reuse grace are kept: any older
    token of the family is a reuse whether or not its row is still there.
    """

    __tablename__ = "refresh_tokens"

    jti: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_token_id)
    family_id: Mapped[str] = mapped_column(sa.ForeignKey("token_families.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    rotated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    successor_jti: Mapped[str | None] = mapped_column(sa.String(36))
