"""Refuse the access tokens of revoked sign-ins, without a database query per request.

Each process keeps the ids of the token families revoked within the access-token
lifetime (older ones' access tokens have expired anyway) and reloads them from the
database at most every TOKEN_REVOCATION_CHECK_SECONDS, so a logout reaches every process
within that interval, and a poll costs a set lookup. The set lives in PostgreSQL, not
Redis, so it survives a Redis restart and holds while Redis is down.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db, jwt
from app.models import TokenFamily
from app.models.base import utcnow

log = logging.getLogger(__name__)

RETRY_AFTER_FAILED_LOAD_SECONDS = 5.0


class RevokedFamilies:
    """The recently revoked token families, as last read from the database, plus those this process revoked."""

    def __init__(self, check_seconds: float, window_seconds: float) -> None:
        self.check_seconds = check_seconds
        self.window_seconds = window_seconds
        self._loaded: frozenset[str] = frozenset()
        self._revoked_here: dict[str, float] = {}  # kept until every later load must include them
        self._next_load = 0.0
        self._ever_loaded = False
        self._lock = threading.Lock()

    def add(self, family_id: str) -> None:
        """Note a family this process revoked (after its commit): refused here at once."""
        with self._lock:
            self._revoked_here[family_id] = time.monotonic()

    def contains(self, family_id: str, engine: Engine) -> bool:
        """Tell whether the family is revoked, reloading the set first when it is due."""
        if time.monotonic() >= self._next_load:
            self._reload(engine)
        return family_id in self._loaded or family_id in self._revoked_here

    def _reload(self, engine: Engine) -> None:
        # Until the first load, every request waits for it; later, one thread reloads while
        # the others answer from the set they have.
        if not self._lock.acquire(blocking=not self._ever_loaded):
            return
        try:
            started = time.monotonic()
            if started < self._next_load:
                return  # another thread just did
            try:
                self._loaded = self._read(engine)
            except SQLAlchemyError as error:
                log.warning(
                    "Could not read the revoked sign-ins; keeping the %d known: %s", len(self._loaded), error
                )
                self._next_load = started + min(self.check_seconds, RETRY_AFTER_FAILED_LOAD_SECONDS)
                return
            self._ever_loaded = True
            self._next_load = started + self.check_seconds
            # A revocation noted before the load began was committed before it, so it is in it.
            self._revoked_here = {family: at for family, at in self._revoked_here.items() if at >= started}
        finally:
            self._lock.release()

    def _read(self, engine: Engine) -> frozenset[str]:
        since = utcnow() - timedelta(seconds=self.window_seconds)
        with engine.connect() as connection:
            query = db.select(TokenFamily.id).where(TokenFamily.revoked_at > since)
            return frozenset(connection.execute(query).scalars())


def init_token_revocation(app: Flask) -> None:
    """Give the app its set of revoked families, for ``token_is_revoked``."""
    config = app.config
    app.extensions["revoked_families"] = RevokedFamilies(
        check_seconds=config["TOKEN_REVOCATION_CHECK_SECONDS"],
        # An access token outlives its family's revocation by at most its lifetime.
        window_seconds=config["JWT_ACCESS_TOKEN_EXPIRES"] + config["TOKEN_REVOCATION_CHECK_SECONDS"],
    )


@jwt.token_in_blocklist_loader
def token_is_revoked(header: dict, payload: dict) -> bool:
    """Refuse tokens of revoked sign-ins, and tokens issued before sign-ins were families."""
    family = payload.get("fam")
    if not isinstance(family, str):
        return True
    return current_app.extensions["revoked_families"].contains(family, db.engine)
