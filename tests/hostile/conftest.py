"""Attacks on the platform as it ships: each module gets a platform of its own (tests/chaos/stack.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chaos.stack import Stack, stack_for_module

# Timing settings the accounts attacks shorten, and only these (tests/README.md): a reused
# refresh token's grace, and how often each process reloads the revoked sign-ins.
ACCOUNTS_TIMING = {"REFRESH_REUSE_GRACE_SECONDS": "3", "TOKEN_REVOCATION_CHECK_SECONDS": "1"}


@pytest.fixture(scope="module")
def outputs_stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """The platform the outputs attacks (CSV, /health, /metrics, uploads) are aimed at."""
    with stack_for_module(request.module.__name__) as running:
        yield running


@pytest.fixture(scope="module")
def accounts_stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """The API as Dockerfile.web starts it, with the shipped limits, on a fresh database."""
    with stack_for_module(request.module.__name__, ACCOUNTS_TIMING) as running:
        yield running


@pytest.fixture(scope="module")
def server_stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """The API as Dockerfile.web's CMD starts it (server attacks: bodies, slow clients, streams)."""
    with stack_for_module(request.module.__name__) as running:
        yield running


@pytest.fixture(scope="package")
def pdf_stack() -> Iterator[Stack]:
    """One platform for the hostile-PDF modules (test_pdf_*.py); each starts and stops its own workers."""
    with stack_for_module("tests.hostile.test_pdf") as running:
        yield running
