"""Check the services the platform depends on, each within a time limit."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import redis
from flask import current_app
from sqlalchemy import text

from app.extensions import db

log = logging.getLogger(__name__)


def _timed(check: Callable[[], None]) -> dict:
    started = time.perf_counter()
    try:
        check()
    except Exception as error:  # noqa: BLE001 - any failure means unhealthy
        status = {"status": "error", "error": f"{type(error).__name__}: {error}"[:300]}
    else:
        status = {"status": "ok"}
    status["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return status


def check_database(timeout: float) -> None:
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"SET LOCAL statement_timeout = {int(timeout * 1000)}"))
        connection.execute(text("SELECT 1"))
        connection.rollback()


def check_broker(timeout: float) -> None:
    redis_url = current_app.config["REDIS_URL"]
    if redis_url is None:
        queue = Path(current_app.config["CELERY"]["broker_transport_options"]["data_folder_in"])
        if not queue.is_dir():
            raise RuntimeError(f"The embedded broker's folder {queue} is missing.")
        return
    client = redis.Redis.from_url(redis_url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()


def check_health() -> tuple[bool, dict]:
    """Return whether every component is healthy, and each one's status and latency."""
    timeout = current_app.config["HEALTH_TIMEOUT_SECONDS"]
    components = {
        "database": _timed(lambda: check_database(timeout)),
        "broker": _timed(lambda: check_broker(timeout)),
    }
    for name, checked in components.items():
        if checked["status"] != "ok":
            log.warning("Health: %s failed after %s ms: %s", name, checked["latency_ms"], checked["error"])
    healthy = all(c["status"] == "ok" for c in components.values())
    return healthy, components
