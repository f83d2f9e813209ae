"""Each chaos module runs its own platform: a private Redis, a fresh database, its own queue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chaos.stack import Stack, stack_for_module


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """A platform of the module's own on a fresh database of the test server."""
    with stack_for_module(request.module.__name__) as running:
        yield running
