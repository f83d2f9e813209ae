"""safe_commit against a real PostgreSQL whose connection we break mid-transaction."""

from __future__ import annotations

import secrets

import psycopg2
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from app import database
from app.database import safe_commit
from app.extensions import db
from app.models import User
from tests.support import ADMIN_DATABASE_URL


def terminate_session_backend() -> None:
    """Kill the server process behind the session's connection, as a failover would."""
    pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = psycopg2.connect(ADMIN_DATABASE_URL)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
    admin.close()


def add_user(email: str) -> User:
    user = User(email=email, password_hash="x")
    db.session.add(user)
    return user


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """Record the back-off delays instead of waiting them out."""
    recorded: list[float] = []
    monkeypatch.setattr(database.time, "sleep", recorded.append)
    return recorded


def test_commit_is_retried_after_the_connection_is_killed(app_context, sleeps):
    email = f"retry-{secrets.token_hex(4)}@example.com"
    attempts = []

    def apply() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            terminate_session_backend()
        return add_user(email).email

    assert safe_commit(apply) == email
    assert len(attempts) == 2
    assert sleeps == [0.0]
    assert db.session.scalar(db.select(db.func.count()).where(User.email == email)) == 1


def test_commit_gives_up_after_now_1s_2s_with_the_session_rolled_back(app_context, sleeps):
    email = f"never-{secrets.token_hex(4)}@example.com"
    attempts = []

    def apply() -> None:
        attempts.append(1)
        terminate_session_backend()
        add_user(email)

    with pytest.raises(OperationalError):
        safe_commit(apply)
    assert len(attempts) == 4
    assert sleeps == [0.0, 1.0, 2.0]
    assert db.session.execute(text("SELECT 1")).scalar_one() == 1  # usable again
    assert db.session.scalar(db.select(db.func.count()).where(User.email == email)) == 0


def test_integrity_errors_are_not_retried(app_context, sleeps):
    email = f"dup-{secrets.token_hex(4)}@example.com"
    safe_commit(lambda: add_user(email))
    attempts = []

    def apply() -> None:
        attempts.append(1)
        add_user(email)

    with pytest.raises(IntegrityError):
        safe_commit(apply)
    assert len(attempts) == 1
    assert sleeps == []


def test_a_soft_time_limit_inside_a_commit_is_neither_swallowed_nor_retried(app_context, sleeps):
    from celery.exceptions import SoftTimeLimitExceeded

    attempts = []

    def apply() -> None:
        attempts.append(1)
        add_user(f"soft-{secrets.token_hex(4)}@example.com")
        raise SoftTimeLimitExceeded()

    with pytest.raises(SoftTimeLimitExceeded):
        safe_commit(apply)
    assert len(attempts) == 1
    assert sleeps == []
