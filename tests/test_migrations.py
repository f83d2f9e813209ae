"""The migrations build the schema on an empty PostgreSQL database, and undo it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import REPO_ROOT, RUN_ID, admin_execute, database_url

EXPECTED_TABLES = {
    "alembic_version",
    "users",
    "jobs",
    "chunks",
    "documents",
    "sentences",
    "maintenance_runs",
    "token_families",
    "refresh_tokens",
}


@pytest.fixture
def empty_database():
    name = f"docjobs_migrations_{RUN_ID}"
    admin_execute(f'CREATE DATABASE "{name}"')
    yield database_url(name)
    admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def flask_db(url: str, *args: str) -> str:
    """Run `flask db ...` as a user would, against the given database."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "db", *args],
        cwd=REPO_ROOT,
        env=os.environ | {"DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


def tables(url: str) -> set[str]:
    import sqlalchemy as sa

    from config import normalize_database_url

    engine = sa.create_engine(normalize_database_url(url))
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_and_upgrade_again(empty_database):
    flask_db(empty_database, "upgrade")
    assert tables(empty_database) == EXPECTED_TABLES
    flask_db(empty_database, "check")  # the models and the migrations agree

    flask_db(empty_database, "downgrade", "base")
    assert tables(empty_database) == {"alembic_version"}

    flask_db(empty_database, "upgrade")
    assert tables(empty_database) == EXPECTED_TABLES
