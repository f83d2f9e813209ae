"""Each chaos module runs its own platform: a private Redis, a fresh database, its own queue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chaos.servers import migrate
from tests.chaos.stack import Stack, module_workdir
from tests.support import RUN_ID, admin_execute, database_url


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """A platform of the module's own on a fresh database of the test server."""
    name, workdir = module_workdir(request.module.__name__)
    database = f"docjobs_chaos_{name.replace('-', '_')}_{RUN_ID}"
    admin_execute(f'CREATE DATABASE "{database}"')
    try:
        migrate(database_url(database))
        with Stack.running(name, database_url(database), workdir) as running:
            yield running
    finally:
        admin_execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
