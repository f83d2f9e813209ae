"""Hostile clients against platforms started as they ship (issue 11); each module gets its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chaos.servers import migrate
from tests.chaos.stack import Stack, module_workdir
from tests.support import RUN_ID, admin_execute, database_url


@pytest.fixture(scope="module")
def server_stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """Private Redis, a fresh database and the API as Dockerfile.web's CMD starts it, for one module."""
    name, workdir = module_workdir(request.module.__name__)
    database = f"docjobs_hostile_{name.replace('-', '_')}_{RUN_ID}"
    admin_execute(f'CREATE DATABASE "{database}"')
    try:
        migrate(database_url(database))
        with Stack.running(name, database_url(database), workdir) as running:
            yield running
    finally:
        admin_execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
