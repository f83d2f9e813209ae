"""Wait until the database and Redis the configuration names accept connections.

`python -m scripts.wait_for_services --timeout 60` exits 0 once both answer, and 1
with the last error of each after the timeout. The worker container runs it before
Celery (railway-worker-entrypoint.sh), so a worker that starts before its database
says what it waits for instead of crash-looping.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import redis
import sqlalchemy

from config import Config

CONNECT_TIMEOUT_SECONDS = 3
RETRY_SECONDS = 1.0


def database_check(url: str) -> Callable[[], None]:
    """Return a check that runs SELECT 1 on the database."""

    def check() -> None:
        connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS} if url.startswith("postgresql") else {}
        engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool, connect_args=connect_args)
        try:
            with engine.connect() as connection:
                connection.execute(sqlalchemy.text("SELECT 1"))
        finally:
            engine.dispose()

    return check


def redis_check(url: str) -> Callable[[], None]:
    """Return a check that PINGs Redis."""

    def check() -> None:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=CONNECT_TIMEOUT_SECONDS
        )
        try:
            client.ping()
        finally:
            client.close()

    return check


def wait_for(checks: dict[str, Callable[[], None]], timeout: float) -> dict[str, str]:
    """Retry each check until it passes or the timeout ends; return the last error of each failing one."""
    deadline = time.monotonic() + timeout
    pending = dict(checks)
    errors: dict[str, str] = {}
    while pending:
        for name, check in list(pending.items()):
            try:
                check()
            except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
                if name not in errors:
                    print(f"Waiting for {name}: {exc}".strip(), flush=True)
                errors[name] = str(exc).strip() or type(exc).__name__
            else:
                print(f"{name[0].upper()}{name[1:]} is reachable.", flush=True)
                del pending[name]
                errors.pop(name, None)
        if pending and time.monotonic() >= deadline:
            return errors
        if pending:
            time.sleep(RETRY_SECONDS)
    return {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait (default 60)")
    args = parser.parse_args(argv)
    config = Config()
    problems = config.problems()
    if problems:
        print("Configuration refused: " + " ".join(problems), file=sys.stderr, flush=True)
        return 1
    checks = {"the database": database_check(config.SQLALCHEMY_DATABASE_URI)}
    if config.REDIS_URL:
        checks["Redis"] = redis_check(config.REDIS_URL)
    errors = wait_for(checks, args.timeout)
    for name, error in errors.items():
        print(f"Gave up on {name} after {args.timeout:g} s: {error}", file=sys.stderr, flush=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
