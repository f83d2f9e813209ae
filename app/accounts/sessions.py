"""Sign-ins as token families: start one, rotate its refresh token on every use, end it.

A refresh token is good for one refresh, which answers with a new access token and a new
refresh token. Presented again within REFRESH_REUSE_GRACE_SECONDS of that, it gets the same
successor (two commands of one user refreshing at once must not sign it out). Later, a
copy of it is in someone else's hands: the whole family is revoked, the thief's tokens
and the user's alike, and the user signs in again. Models: app/models/token_family.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token

from app.errors import ApiError
from app.extensions import db
from app.models import RefreshToken, TokenFamily
from app.models.base import utcnow
from app.models.token_family import new_token_id

SIGNED_OUT = "This sign-in has ended (signed out, or its refresh token was used twice); sign in again."
REUSED = (
    "This refresh token was already used, so someone may hold a copy: every token of this sign-in"
    " is now revoked. Sign in again."
)


class Tokens(NamedTuple):
    """What a sign-in or a refresh answers with."""

    access_token: str
    refresh_token: str


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes (in UTC); PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def seconds_setting(name: str) -> timedelta:
    return timedelta(seconds=current_app.config[name])


def start_session(user_id: int) -> Tokens:
    """Start a token family for a user who signed in; return its first tokens."""
    now = utcnow()
    forget_expired_families(user_id, now)
    family = TokenFamily(id=new_token_id(), user_id=user_id, created_at=now)
    token = new_refresh_token(family, now)
    db.session.add(family)
    db.session.flush()  # the family row first: its token refers to it
    db.session.add(token)
    db.session.commit()
    return tokens_of(family, token)


def refresh_session(claims: dict) -> Tokens:
    """Rotate the presented refresh token (its decoded claims); revoke its family if it was reused."""
    family = db.session.execute(
        db.select(TokenFamily).where(TokenFamily.id == claims.get("fam")).with_for_update()
    ).scalar_one_or_none()  # the lock serialises every refresh and logout of one sign-in
    if family is None or str(family.user_id) != str(claims["sub"]) or family.revoked_at is not None:
        db.session.rollback()
        raise ApiError("token_revoked", SIGNED_OUT, 401)
    now, grace = utcnow(), seconds_setting("REFRESH_REUSE_GRACE_SECONDS")
    token = db.session.get(RefreshToken, claims["jti"])
    if token is not None and token.rotated_at is None:
        successor = rotate(family, token, now)
    elif token is not None and now - as_utc(token.rotated_at) <= grace:
        successor = db.session.get(RefreshToken, token.successor_jti)
    else:
        successor = None  # rotated longer ago than the grace (its row may be gone): a reuse
    if successor is None:
        revoke(family, "reuse", now)
        raise ApiError("token_revoked", REUSED, 401)
    db.session.commit()
    return tokens_of(family, successor)


def end_session(family_id: str) -> None:
    """Revoke a sign-in (logout): its refresh tokens at once, its access tokens within the check interval."""
    family = db.session.execute(
        db.select(TokenFamily).where(TokenFamily.id == family_id).with_for_update()
    ).scalar_one_or_none()
    if family is not None and family.revoked_at is None:
        revoke(family, "logout", utcnow())
    else:
        db.session.rollback()


def rotate(family: TokenFamily, token: RefreshToken, now: datetime) -> RefreshToken:
    """Replace a refresh token with a new one; forget the tokens rotated longer ago than the grace."""
    successor = new_refresh_token(family, now)
    token.rotated_at, token.successor_jti = now, successor.jti
    db.session.add(successor)
    db.session.flush()
    db.session.execute(
        db.delete(RefreshToken).where(
            RefreshToken.family_id == family.id,
            RefreshToken.rotated_at < now - seconds_setting("REFRESH_REUSE_GRACE_SECONDS"),
        )
    )
    return successor


def new_refresh_token(family: TokenFamily, now: datetime) -> RefreshToken:
    """The family's next refresh token, which its expiry follows."""
    expires_at = now + seconds_setting("JWT_REFRESH_TOKEN_EXPIRES")
    family.expires_at = expires_at
    return RefreshToken(jti=new_token_id(), family_id=family.id, issued_at=now, expires_at=expires_at)


def revoke(family: TokenFamily, reason: str, now: datetime) -> None:
    """Revoke a family and commit; this process refuses its access tokens at once, the others on their next load."""
    family.revoked_at, family.revoked_reason = now, reason
    db.session.commit()
    current_app.extensions["revoked_families"].add(family.id)


def forget_expired_families(user_id: int, now: datetime) -> None:
    """Delete a user's sign-ins whose every token has expired, so signing in often does not pile up rows."""
    cutoff = now - seconds_setting("JWT_ACCESS_TOKEN_EXPIRES")
    expired = (TokenFamily.user_id == user_id, TokenFamily.expires_at < cutoff)
    db.session.execute(
        db.delete(RefreshToken).where(RefreshToken.family_id.in_(db.select(TokenFamily.id).where(*expired)))
    )
    db.session.execute(db.delete(TokenFamily).where(*expired))


def tokens_of(family: TokenFamily, refresh: RefreshToken) -> Tokens:
    """A new access token of the family and the given refresh token, encoded the same way every time."""
    identity = str(family.user_id)
    issued = int(as_utc(refresh.issued_at).timestamp())
    claims = {
        "fam": family.id,
        "jti": refresh.jti,
        "iat": issued,
        "nbf": issued,
        "exp": int(as_utc(refresh.expires_at).timestamp()),
    }
    return Tokens(
        access_token=create_access_token(identity=identity, additional_claims={"fam": family.id}),
        refresh_token=create_refresh_token(identity=identity, expires_delta=False, additional_claims=claims),
    )
