"""Check an email and password in the same time whether or not the account exists."""

from __future__ import annotations

import functools
import secrets

from werkzeug.security import check_password_hash, generate_password_hash

from app.concurrency import run_in_thread
from app.extensions import db
from app.models import User


@functools.cache
def dummy_password_hash() -> str:
    """A hash of a password nobody knows, made as real ones are, to check unknown emails against."""
    return run_in_thread(generate_password_hash, secrets.token_urlsafe(16))


def authenticate(email: str, password: str) -> User | None:
    """Return the user with this email and password, or None.

    An unknown email is checked against a dummy hash, so it costs the same hash
    computation as a wrong password and the response time does not tell which it was.
    """
    dummy = dummy_password_hash()  # made before the lookup: the first sign-in is slow either way
    user = db.session.execute(db.select(User).where(User.email == email)).scalar_one_or_none()
    if user is None:
        run_in_thread(check_password_hash, dummy, password)  # CPU work off the event loop, as User's
        return None
    return user if user.check_password(password) else None
