"""Run every check in order, each within a time limit."""

from __future__ import annotations

import threading
from collections.abc import Callable

from app.diagnostics import broker, database, jobs, settings
from app.diagnostics.results import CheckResult, Context, describe, failed, skipped
from config import Config

Check = Callable[[Context], CheckResult]

CHECKS: tuple[tuple[str, Check], ...] = (
    ("variables", settings.check_variables),
    ("visibility-timeout", settings.check_visibility_timeout),
    ("tls", settings.check_tls),
    ("database", database.check_database),
    ("migrations", database.check_migrations),
    ("schema", database.check_schema),
    ("documents", database.check_documents_readable),
    ("connection-budget", database.check_connections),
    ("stuck-jobs", jobs.check_stuck_jobs),
    ("pending-jobs", jobs.check_pending_jobs),
    ("maintenance", jobs.check_maintenance),
    ("redis", broker.check_redis),
    ("queue", broker.check_queue),
    ("workers", broker.check_workers),
)
# Each check bounds its own connections by the timeout; this catches whatever does not.
GRACE_SECONDS = 3.0


def run_with_timeout(name: str, check: Check, context: Context) -> CheckResult:
    """Run one check in a daemon thread, so a hung server cannot hang the report."""
    outcome: list[CheckResult] = []

    def target() -> None:
        try:
            outcome.append(check(context))
        except Exception as error:  # noqa: BLE001 - a crashing check is a failed check
            outcome.append(failed(name, describe(error), f"See docs/troubleshooting.md, section {name}."))

    thread = threading.Thread(target=target, name=f"check-{name}", daemon=True)
    thread.start()
    limit = (
        context.timeout
        + GRACE_SECONDS
        + ((broker.PING_ROUNDS + 1) * broker.PING_SECONDS if name == "workers" else 0)
    )
    thread.join(limit)
    if not outcome:
        return failed(name, f"no answer within {limit:.0f} s", "The service hangs: check its host and load.")
    return outcome[0]


def run_checks(timeout: float = 5.0) -> list[CheckResult]:
    """Run every check and return their results in order."""
    try:
        config = Config()
    except ValueError as error:
        results = [failed("variables", "a variable is malformed", str(error))]
        return results + [skipped(name, "the configuration does not load") for name, _ in CHECKS[1:]]
    context = Context(config=config, timeout=timeout)
    try:
        return [run_with_timeout(name, check, context) for name, check in CHECKS]
    finally:
        if context.engine is not None:
            context.engine.dispose()
