"""Commits that survive a database blip: a dropped connection, a failover, a restart."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from app.extensions import db

log = logging.getLogger(__name__)

T = TypeVar("T")

# Immediately, then after 1 s, then after 2 s.
RETRY_DELAYS = (0.0, 1.0, 2.0)


def is_transient(error: Exception) -> bool:
    """Tell whether a database error may go away on its own (lost connection, server restart)."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def safe_commit(apply: Callable[[], T], *, delays: tuple[float, ...] = RETRY_DELAYS) -> T:
    """Run ``apply`` and commit, retrying both after a transient error.

    ``apply`` makes the changes; it runs again on each attempt because a rollback
    discards whatever the failed attempt had staged. After the last attempt the
    session is rolled back, the error logged and re-raised.
    """
    for attempt, delay in enumerate((*delays, None), start=1):
        try:
            result = apply()
            db.session.commit()
            return result
        except (OperationalError, InterfaceError, DBAPIError) as error:
            db.session.rollback()
            if delay is None or not is_transient(error):
                log.error("Database commit failed after %d attempt(s): %s", attempt, error)
                raise
            log.warning(
                "Transient database error (attempt %d), retrying in %.0f s: %s", attempt, delay, error
            )
            time.sleep(delay)
    raise AssertionError("the loop returns or raises")
