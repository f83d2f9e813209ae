"""Fixtures for job-control and idempotency tests: apps whose work no worker takes, direct SQL."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import redis
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from config import TestConfig
from tests.support import TEST_REDIS_URL


@contextmanager
def extra_app(**env: str) -> Iterator[Flask]:
    """A second app on the test database, built with some environment variables changed."""
    from app.extensions import db

    # The limiter is shared by every app: keep its storage on the test Redis.
    env = {"RATELIMIT_STORAGE_URI": TEST_REDIS_URL} | env
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        flask_app = create_app(TestConfig())
    yield flask_app
    with flask_app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def idle_client(app: Flask) -> Iterator[FlaskClient]:
    """A client whose jobs go to a queue no worker reads: they stay where a test puts them."""
    queue = os.environ["CELERY_QUEUE"] + "-idle"
    with extra_app(CELERY_QUEUE=queue) as idle_app:
        yield idle_app.test_client()
    redis.Redis.from_url(TEST_REDIS_URL).delete(queue)


@pytest.fixture(scope="session")
def broker_down_client(app: Flask) -> Iterator[FlaskClient]:
    """A client whose broker is unreachable: every publish fails."""
    with extra_app(REDIS_URL="redis://127.0.0.1:1/15") as down_app:
        yield down_app.test_client()


@pytest.fixture
def run_sql(app: Flask) -> Callable[..., list[sa.Row]]:
    """Run one SQL statement on the test database in its own transaction and return its rows."""
    from app.extensions import db

    def run(statement: str, **params: object) -> list[sa.Row]:
        with app.app_context(), db.engine.begin() as connection:
            result = connection.execute(sa.text(statement), params)
            return list(result) if result.returns_rows else []

    return run
