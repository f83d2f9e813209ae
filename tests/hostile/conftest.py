"""Hostile-client and hostile-PDF tests against platforms as they ship: private Redis, fresh database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.servers import migrate
from tests.chaos.stack import Stack
from tests.support import RUN_ID, admin_execute, database_url


@pytest.fixture(scope="package")
def pdf_stack() -> Iterator[Stack]:
    """One platform for the hostile-PDF modules; each starts (and stops) its own workers."""
    workdir = Path(os.environ["INSTANCE_DIR"]) / "hostile-pdf"
    workdir.mkdir(exist_ok=True)
    database = f"docjobs_hostile_pdf_{RUN_ID}"
    admin_execute(f'CREATE DATABASE "{database}"')
    try:
        migrate(database_url(database))
        with Stack.running("hostile-pdf", database_url(database), workdir) as running:
            yield running
    finally:
        admin_execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
