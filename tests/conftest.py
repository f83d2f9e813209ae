"""Fixtures: a throw-away PostgreSQL database, a Redis namespace and a real Celery worker.

The suite talks to real servers (TEST_DATABASE_URL, TEST_REDIS_URL); each run gets its
own database and queue, so runs never see each other's rows or tasks.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from tests.support import RUN_ID, SUITE_SETTINGS, TEST_REDIS_URL, Worker, admin_execute, database_url

TEST_DATABASE = f"docjobs_test_{RUN_ID}"

# The app under test and every worker subprocess read these.
os.environ.update(
    {
        "DATABASE_URL": database_url(TEST_DATABASE),
        "REDIS_URL": TEST_REDIS_URL,
        "CELERY_QUEUE": f"docjobs-test-{RUN_ID}",
        "RATELIMIT_KEY_PREFIX": f"docjobs-test-{RUN_ID}",
        **SUITE_SETTINGS,
        "INSTANCE_DIR": tempfile.mkdtemp(prefix="docjobs-test-"),
        # Models ship inside packages: any attempt to fetch one from a hub must fail.
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost,::1,[::1]",
    }
)
os.environ.pop("FLASK_ENV", None)  # APP_ENV=test (SUITE_SETTINGS) decides


@pytest.fixture(scope="session")
def app() -> Iterator[Flask]:
    """The app on a fresh, migrated PostgreSQL database."""
    from app import create_app
    from config import TestConfig

    admin_execute(f'CREATE DATABASE "{TEST_DATABASE}"')
    flask_app = create_app(TestConfig())
    with flask_app.app_context():
        upgrade()
    redis.Redis.from_url(TEST_REDIS_URL).ping()
    yield flask_app
    with flask_app.app_context():
        from app.extensions import db

        db.engine.dispose()
    admin_execute(f'DROP DATABASE IF EXISTS "{TEST_DATABASE}" WITH (FORCE)')


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def app_context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


@pytest.fixture(scope="session")
def worker(app: Flask) -> Iterator[Worker]:
    """A real Celery worker subprocess (prefork, two processes) on the test queue."""
    with Worker.started() as running:
        yield running


@pytest.fixture(scope="session")
def shared_pdfs() -> Path:
    """The third-party PDF corpus in ../shared/pdfs; the suite fails without it."""
    folder = Path(os.environ.get("SHARED_PDFS", Path(__file__).resolve().parents[2] / "shared" / "pdfs"))
    if not (folder / "MANIFEST.tsv").is_file():
        pytest.fail(f"The shared PDF corpus is missing: expected {folder}/MANIFEST.tsv (set SHARED_PDFS).")
    return folder
